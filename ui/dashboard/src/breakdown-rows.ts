// What a pages or regions table shows from the breakdown pages loaded so far: the rows, how many
// keys there are in all, and the views of the keys not shown yet ("Others").
import type { BreakdownBy, BreakdownResponse, BreakdownRow } from './api';
import { formatCount } from './format';

/** Rows a table shows first, and how many more each "Show more" loads. */
export const FIRST_ROWS = 10;
export const MORE_ROWS = 50;

export interface TableRows {
  rows: BreakdownRow[];
  /** Views of every matching key, shown or not. */
  total: number;
  /** Number of matching keys, shown or not. */
  distinct: number;
  /** Views of the keys not shown. */
  others: number;
  /** Keys not shown. */
  hidden: number;
  hasMore: boolean;
}

/**
 * Joins the first page and the "Show more" pages in order. A key can move across a page border
 * when counts change between two requests (a roll-up ran): it is shown once, where first seen.
 * Totals come from the newest page.
 */
export function combinePages(pages: readonly BreakdownResponse[]): TableRows | undefined {
  const newest = pages[pages.length - 1];
  if (!newest) return undefined;
  const seen = new Set<string>();
  const rows: BreakdownRow[] = [];
  for (const page of pages) {
    for (const row of page.rows) {
      if (seen.has(row.key)) continue;
      seen.add(row.key);
      rows.push(row);
    }
  }
  const shown = rows.reduce((sum, row) => sum + row.views, 0);
  const hidden = Math.max(0, newest.distinct - rows.length);
  // A "Show more" that brought nothing back means the list ended early (it shrank meanwhile).
  const exhausted = pages.length > 1 && newest.rows.length === 0;
  return {
    rows,
    total: newest.total,
    distinct: newest.distinct,
    others: Math.max(0, newest.total - shown),
    hidden,
    hasMore: hidden > 0 && !exhausted,
  };
}

const NOUNS: Record<BreakdownBy, [string, string]> = { page: ['page', 'pages'], region: ['region', 'regions'] };

/** "1 page", "1,234 pages", "0 regions". */
export function countLabel(n: number, by: BreakdownBy): string {
  const [one, many] = NOUNS[by];
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Share of `views` in `total` as the tables print it: "12.5%", "<0.1%", "0.0%". */
export function shareLabel(views: number, total: number): string {
  const share = total > 0 ? (views / total) * 100 : 0;
  return `${share >= 0.1 || share === 0 ? share.toFixed(1) : '<0.1'}%`;
}

export const sharePercent = (views: number, total: number): number => (total > 0 ? Math.min(100, (views / total) * 100) : 0);
