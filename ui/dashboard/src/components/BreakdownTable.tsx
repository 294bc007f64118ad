// A "views per key" table (pages or regions) with share bars, click-to-filter and CSV export.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { BreakdownEntry } from '../aggregate';
import { formatCount } from '../format';

const VISIBLE_ROWS = 100;

interface Props {
  title: string;
  caption: string;
  keyHeader: string;
  entries: readonly BreakdownEntry[];
  /** Becomes `data-page` or `data-region` on each row, holding the raw key. */
  rowKeyAttribute: 'data-page' | 'data-region';
  testId: string;
  exportTestId: string;
  onExport: () => void;
  renderKey: (key: string) => ComponentChildren;
  /** Filter by a row's key; omitted when the table is already filtered to one key. */
  onSelect?: (key: string) => void;
  selectLabel: (key: string) => string;
}

export function BreakdownTable(props: Props) {
  const { title, caption, keyHeader, entries, rowKeyAttribute, testId, exportTestId, onExport, renderKey } = props;
  const [showAll, setShowAll] = useState(false);
  const total = entries.reduce((sum, entry) => sum + entry.views, 0);
  const visible = showAll ? entries : entries.slice(0, VISIBLE_ROWS);
  const headingId = `${testId}-heading`;

  return (
    <section class="card" aria-labelledby={headingId}>
      <div class="card-head">
        <h2 id={headingId}>{title}</h2>
        <button type="button" class="button button-small" onClick={onExport} disabled={entries.length === 0} data-testid={exportTestId}>
          Export CSV
        </button>
      </div>
      <div class="table-wrap">
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
          <tbody>
            {visible.map((entry) => {
              const share = total > 0 ? (entry.views / total) * 100 : 0;
              return (
                <tr key={entry.key} {...{ [rowKeyAttribute]: entry.key }}>
                  <th scope="row" class="key">
                    <span class="share-bar" style={{ width: `${share}%` }} aria-hidden="true" />
                    {props.onSelect ? (
                      <button
                        type="button"
                        class="link"
                        onClick={() => props.onSelect?.(entry.key)}
                        title={props.selectLabel(entry.key)}
                      >
                        {renderKey(entry.key)}
                      </button>
                    ) : (
                      <span class="key-text">{renderKey(entry.key)}</span>
                    )}
                  </th>
                  <td class="num" data-views={entry.views}>
                    {formatCount(entry.views)}
                  </td>
                  <td class="num share">{share >= 0.1 || share === 0 ? share.toFixed(1) : '<0.1'}%</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {entries.length > VISIBLE_ROWS && (
        <button type="button" class="button button-small show-all" onClick={() => setShowAll(!showAll)} aria-expanded={showAll}>
          {showAll ? `Show top ${VISIBLE_ROWS}` : `Show all ${formatCount(entries.length)}`}
        </button>
      )}
    </section>
  );
}
