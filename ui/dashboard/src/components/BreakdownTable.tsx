// A "views per key" table (pages or regions): the top rows, "Show more", a server-side search,
// an "Others" line for the rest, click-to-filter, and CSV export streamed by the server.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { breakdownCsvUrl, type BreakdownBy, type BreakdownResponse, type RangeQuery } from '../api';
import { countLabel, MORE_ROWS, shareLabel, sharePercent } from '../breakdown-rows';
import { formatCount } from '../format';
import { useBreakdownTable } from '../use-breakdown';
import type { Loadable } from '../use-json';

interface Props {
  by: BreakdownBy;
  title: string;
  caption: string;
  keyHeader: string;
  searchPlaceholder: string;
  query: RangeQuery;
  /** The first rows without a search; the dashboard loads them for the summary too. */
  top: Loadable<BreakdownResponse>;
  /** Views of the whole range and filters: what the share column is a share of. */
  allViews: number | undefined;
  reloadKey: number;
  onSessionExpired: () => void;
  /** Becomes `data-page` or `data-region` on each row, holding the raw key. */
  rowKeyAttribute: 'data-page' | 'data-region';
  testId: string;
  exportTestId: string;
  csvFilename: string;
  renderKey: (key: string) => ComponentChildren;
  /** Filter by a row's key; omitted when the table is already filtered to one key. */
  onSelect?: (key: string) => void;
  selectLabel: (key: string) => string;
}

export function BreakdownTable(props: Props) {
  const { by, title, caption, keyHeader, testId, exportTestId, renderKey, rowKeyAttribute } = props;
  const state = useBreakdownTable(by, props.query, props.top, props.reloadKey, props.onSessionExpired);
  const { table, term } = state;
  const base = props.allViews ?? table?.total ?? 0;
  const headingId = `${testId}-heading`;
  const searchId = `${testId}-search`;
  const rows = table?.rows ?? [];

  // After "Show more", focus goes to the first new row, so a keyboard user carries on reading
  // from there (and is not left on nothing when the button goes away with the last rows).
  const tbody = useRef<HTMLTableSectionElement>(null);
  const focusRow = useRef<number | null>(null);
  useEffect(() => {
    const index = focusRow.current;
    if (index === null || state.loadingMore) return;
    focusRow.current = null;
    if (rows.length > index) tbody.current?.rows[index]?.querySelector<HTMLElement>('button')?.focus();
  }, [rows.length, state.loadingMore]);
  const showMore = () => {
    if (!state.canShowMore) return;
    focusRow.current = rows.length;
    state.showMore();
  };

  let count = '';
  if (table) count = term ? `${countLabel(table.distinct, by)} match “${term}”` : countLabel(table.distinct, by);

  return (
    <section class="card table-card" aria-labelledby={headingId}>
      <div class="card-head">
        <div class="card-title">
          <h2 id={headingId}>{title}</h2>
          <span class="muted small" data-testid={`${testId}-count`} data-value={table?.distinct ?? ''}>
            {count}
          </span>
        </div>
        {table && table.distinct > 0 ? (
          // The server streams every matching row; the browser only saves the file.
          <a
            class="button button-small"
            href={breakdownCsvUrl(by, props.query, term || undefined)}
            download={props.csvFilename}
            data-testid={exportTestId}
            title={term ? `Every ${by} matching “${term}”, as CSV` : `Every ${by}, as CSV`}
          >
            Export CSV
          </a>
        ) : (
          <button type="button" class="button button-small" disabled data-testid={exportTestId}>
            Export CSV
          </button>
        )}
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: the <search> element is too new for the browsers the dashboard supports */}
      <form
        class="table-search"
        role="search"
        aria-label={`${title} search`}
        onSubmit={(e) => {
          e.preventDefault();
          state.applySearch();
        }}
      >
        <label for={searchId} class="sr-only">
          Search {title.toLowerCase()}
        </label>
        <input
          id={searchId}
          type="search"
          value={state.search}
          placeholder={props.searchPlaceholder}
          autocomplete="off"
          spellcheck={false}
          maxLength={512}
          onInput={(e) => state.setSearch(e.currentTarget.value)}
          data-testid={searchId}
        />
      </form>
      {state.error ? (
        <p class="form-error" role="alert">
          Could not load the {title.toLowerCase()}: {state.error instanceof Error ? state.error.message : 'unknown error'}
        </p>
      ) : null}
      <div class={`table-wrap${state.loading ? ' is-loading' : ''}`}>
        <table class="breakdown" data-testid={testId}>
          <caption class="sr-only">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">{keyHeader}</th>
              <th scope="col" class="num">
                Views
              </th>
              <th scope="col" class="num share">
                Share
              </th>
            </tr>
          </thead>
          <tbody ref={tbody}>
            {rows.map((entry) => (
              <tr key={entry.key} {...{ [rowKeyAttribute]: entry.key }}>
                <th scope="row" class="key">
                  <span class="share-bar" style={{ width: `${sharePercent(entry.views, base)}%` }} aria-hidden="true" />
                  {props.onSelect ? (
                    <button type="button" class="link" onClick={() => props.onSelect?.(entry.key)} title={props.selectLabel(entry.key)}>
                      {renderKey(entry.key)}
                    </button>
                  ) : (
                    <span class="key-text">{renderKey(entry.key)}</span>
                  )}
                </th>
                <td class="num" data-views={entry.views}>
                  {formatCount(entry.views)}
                </td>
                <td class="num share">{shareLabel(entry.views, base)}</td>
              </tr>
            ))}
          </tbody>
          {table && table.others > 0 && (
            <tfoot>
              <tr class="others" data-testid={`${testId}-others`} data-views={table.others} data-keys={table.hidden}>
                <th scope="row" class="key">
                  <span class="share-bar" style={{ width: `${sharePercent(table.others, base)}%` }} aria-hidden="true" />
                  <span class="key-text">
                    {term ? 'Other matches' : 'Others'} <span class="muted">({countLabel(table.hidden, by)})</span>
                  </span>
                </th>
                <td class="num">{formatCount(table.others)}</td>
                <td class="num share">{shareLabel(table.others, base)}</td>
              </tr>
            </tfoot>
          )}
        </table>
      </div>
      {table && table.distinct === 0 && term && (
        <p class="muted table-empty" data-testid={`${testId}-no-match`}>
          No {title.toLowerCase()} match “{term}” in this range.
        </p>
      )}
      <div class="table-foot">
        <p class="muted small" role="status" data-testid={`${testId}-shown`}>
          {table && table.distinct > 0 ? `Showing ${formatCount(rows.length)} of ${countLabel(table.distinct, by)}` : ''}
        </p>
        {state.moreError ? (
          <p class="form-error small" role="alert">
            Could not load more rows.
          </p>
        ) : null}
        {table?.hasMore && (
          <button type="button" class="button button-small" onClick={showMore} disabled={state.loadingMore || state.loading} data-testid={`${testId}-more`}>
            {state.loadingMore ? 'Loading…' : `Show ${formatCount(Math.min(MORE_ROWS, table.hidden))} more`}
          </button>
        )}
      </div>
    </section>
  );
}
