// Headline numbers: views with the change against the previous period, pages, bot hits.
import { formatCount, formatChange, percentChange } from '../format';

interface Props {
  total: number | undefined;
  previousTotal: number | undefined;
  /** The days before, as text ("1 Oct 2026 – 31 Oct 2026"). */
  previousRange: string;
  pageCount: number | undefined;
  topPage: string | undefined;
  botHits: number | undefined;
  /** A region or page filter is on (bot hits are counted for the whole site). */
  filtered: boolean;
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
  const { total, previousTotal, previousRange, pageCount, topPage, botHits, filtered } = props;
  return (
    <section class="summary" aria-label="Summary">
      <div class="stat stat-main">
        <h2 class="stat-label">Views</h2>
        <p class="stat-value" data-testid="total-views" data-value={total ?? ''}>
          {total === undefined ? dash : formatCount(total)}
        </p>
        <p class="stat-note">
          <Change total={total} previousTotal={previousTotal} /> vs {previousTotal === undefined ? dash : formatCount(previousTotal)} in {previousRange}
        </p>
      </div>
      <div class="stat">
        <h2 class="stat-label">Pages viewed</h2>
        <p class="stat-value" data-testid="page-count" data-value={pageCount ?? ''}>
          {pageCount === undefined ? dash : formatCount(pageCount)}
        </p>
        <p class="stat-note truncate" title={topPage} data-testid="top-page" data-value={topPage ?? ''}>
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
        <p class="stat-note">Not counted as views{filtered ? ' · all regions and pages' : ''}</p>
      </div>
    </section>
  );
}
