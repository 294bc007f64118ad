// Pure roll-ups of API rows into what the dashboard shows: totals, breakdowns, chart series.
import type { AggregatedRow } from './api';

export interface BreakdownEntry {
  key: string;
  views: number;
}

export const totalViews = (rows: readonly AggregatedRow[]): number =>
  rows.reduce((sum, row) => sum + row.views, 0);

/** Views per page or per region, most viewed first; ties in code-point order so it is stable. */
export function breakdown(rows: readonly AggregatedRow[], by: 'pageName' | 'region'): BreakdownEntry[] {
  const views = new Map<string, number>();
  for (const row of rows) views.set(row[by], (views.get(row[by]) ?? 0) + row.views);
  return [...views]
    .map(([key, count]) => ({ key, views: count }))
    .sort((a, b) => b.views - a.views || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface Series {
  /** Period starts, epoch ms, ascending. */
  x: number[];
  views: number[];
}

/**
 * Views per period over `periods` (every period of the range, so empty ones show as 0). Periods
 * the server reports that the browser did not expect are kept rather than silently dropped.
 */
export function viewSeries(rows: readonly AggregatedRow[], periods: readonly number[]): Series {
  const views = new Map<number, number>(periods.map((t) => [t, 0]));
  for (const row of rows) {
    const t = Date.parse(row.periodStart);
    if (Number.isFinite(t)) views.set(t, (views.get(t) ?? 0) + row.views);
  }
  const x = [...views.keys()].sort((a, b) => a - b);
  return { x, views: x.map((t) => views.get(t) ?? 0) };
}
