// Headline numbers: views with the change against the previous period, pages, bot hits.
import { formatCount, formatChange, formatRange, percentChange } from '../format';
import type { DateRange } from '../ranges';

interface Props {
  total: number | undefined;
  previousTotal: number | undefined;
  previousRange: DateRange;
  pageCount: number | undefined;
  topPage: string | undefined;
  botHits: number | undefined;
  regionFiltered: boolean;
}

const dash = '—';

function Change({ total, previousTotal }: { total: number | undefined; previousTotal: number | undefined }) {
  if (total === undefined || previousTotal === undefined) {
    return (
      <span class="change" data-testid="total-change" data-value="">
        {dash}
      </span>
    );
  }
  const change = percentChange(total, previousTotal);
  const direction = change === null ? (total > 0 ? 'up' : 'flat') : change > 0 ? 'up' : change < 0 ? 'down' : 'flat';
  return (
    <span
      class={`change change-${direction}`}
      data-testid="total-change"
      data-value={change === null ? '' : change.toFixed(2)}
      title={change === null && total > 0 ? 'No views in the previous period' : undefined}
    >
      <span aria-hidden="true">{direction === 'up' ? '▲ ' : direction === 'down' ? '▼ ' : ''}</span>
      {change === null ? (total > 0 ? 'New' : dash) : formatChange(change)}
    </span>
  );
}

export function Summary(props: Props) {
  const { total, previousTotal, previousRange, pageCount, topPage, botHits, regionFiltered } = props;
  return (
    <section class="summary" aria-label="Summary">
      <div class="stat stat-main">
        <h2 class="stat-label">Views</h2>
        <p class="stat-value" data-testid="total-views" data-value={total ?? ''}>
          {total === undefined ? dash : formatCount(total)}
        </p>
        <p class="stat-note">
          <Change total={total} previousTotal={previousTotal} /> vs{' '}
          {previousTotal === undefined ? dash : formatCount(previousTotal)} in {formatRange(previousRange)}
        </p>
      </div>
      <div class="stat">
        <h2 class="stat-label">Pages viewed</h2>
        <p class="stat-value">{pageCount === undefined ? dash : formatCount(pageCount)}</p>
        <p class="stat-note truncate" title={topPage}>
          {topPage ? (
            <>
              Top: <span class="mono">{topPage}</span>
            </>
          ) : (
            'No pages yet'
          )}
        </p>
      </div>
      <div class="stat">
        <h2 class="stat-label">Bot hits filtered</h2>
        <p class="stat-value" data-testid="bot-hits" data-value={botHits ?? ''}>
          {botHits === undefined ? dash : formatCount(botHits)}
        </p>
        <p class="stat-note">Not counted as views{regionFiltered ? ' · all regions' : ''}</p>
      </div>
    </section>
  );
}
