// Last 30 minutes, live from the event store: total, views per minute and the top pages right now.
import { useEffect, useState } from 'preact/hooks';
import { getJson, isUnauthorized, realtimeUrl, type RealtimeResponse } from '../api';
import { formatCount, formatTime } from '../format';

const MINUTES = 30;
const REFRESH_MS = 30_000;
const TOP_PAGES = 5;

interface Props {
  onSessionExpired: () => void;
}

export function Realtime({ onSessionExpired }: Props) {
  const [data, setData] = useState<RealtimeResponse>();
  const [updatedAt, setUpdatedAt] = useState<number>();
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let active = true;
    const load = async () => {
      // A hidden tab does not need fresh numbers; it catches up when shown again.
      if (document.hidden) return;
      try {
        const next = await getJson<RealtimeResponse>(realtimeUrl(MINUTES));
        if (!active) return;
        setData(next);
        setUpdatedAt(Date.now());
        setFailed(false);
      } catch (error) {
        if (!active) return;
        if (isUnauthorized(error)) onSessionExpired();
        else setFailed(true);
      }
    };
    void load();
    const timer = window.setInterval(() => void load(), REFRESH_MS);
    const onVisibility = () => void load();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      active = false;
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [onSessionExpired]);

  // The server counts every minute of the window, empty ones included, and ranks the pages.
  const minutes = data?.perMinute.map((minute) => minute.views) ?? [];
  const peak = Math.max(1, ...minutes);
  const pages = data?.topPages.slice(0, TOP_PAGES) ?? [];

  return (
    <section class="card realtime" aria-labelledby="realtime-heading">
      <div class="card-head">
        <h2 id="realtime-heading">
          <span class="live-dot" aria-hidden="true" />
          Last {MINUTES} minutes
        </h2>
        <span class="muted small">{updatedAt ? `Updated ${formatTime(updatedAt)}` : 'Loading…'}</span>
      </div>
      <p class="stat-value" data-testid="realtime-total" data-value={data?.total ?? ''}>
        {data ? formatCount(data.total) : '—'}
      </p>
      {/* Every processed view of the window, whether or not a roll-up has counted it yet. */}
      <p class="stat-note">views, all regions, as they arrive</p>
      {failed && <p class="form-error">Could not refresh the live numbers; retrying every 30 seconds.</p>}
      <div class="minute-bars" aria-hidden="true" data-testid="realtime-minutes" data-values={minutes.join(',')}>
        {minutes.map((count, i) => (
          <span key={i} style={{ height: `${Math.max(count > 0 ? 6 : 2, (count / peak) * 100)}%` }} class={count > 0 ? 'on' : ''} />
        ))}
      </div>
      {pages.length > 0 && (
        <table class="breakdown compact" data-testid="realtime-pages">
          <caption class="sr-only">Top pages in the last {MINUTES} minutes</caption>
          <thead>
            <tr>
              <th scope="col">Page</th>
              <th scope="col" class="num">
                Views
              </th>
            </tr>
          </thead>
          <tbody>
            {pages.map(({ key, views }) => (
              <tr key={key} data-page={key}>
                <th scope="row" class="key">
                  <span class="key-text">{key}</span>
                </th>
                <td class="num" data-views={views}>
                  {formatCount(views)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
