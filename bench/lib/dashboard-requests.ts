import { DAY_MS, isoDate } from './dataset.js';

/**
 * The stats requests the dashboard sends, built as ui/dashboard/src/api.ts builds them (same
 * parameters, same order; that module is browser code and is not imported here). Ranges are the
 * dashboard's presets for a browser in UTC (ui/dashboard/src/ranges.ts): whole days, today included.
 */
export type ViewId = '30d' | '12m';

export interface View {
  id: ViewId;
  label: string;
  /** first and last day shown, YYYY-MM-DD, both inclusive (what the dashboard sends) */
  from: string;
  to: string;
  /** the intervals its chart can ask for; the first is the one it opens with */
  intervals: Array<'day' | 'week' | 'month'>;
}

export function dashboardViews(today: number): View[] {
  const d = new Date(today);
  return [
    { id: '30d', label: 'last 30 days (default view)', from: isoDate(today - 29 * DAY_MS), to: isoDate(today), intervals: ['day'] },
    {
      id: '12m',
      label: 'last 12 months',
      // The 12-month preset starts on the first of the month eleven months back.
      from: isoDate(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 11, 1)),
      to: isoDate(today),
      intervals: ['day', 'week', 'month'],
    },
  ];
}

export interface Filter {
  id: 'all' | 'region' | 'page';
  label: string;
  region?: string;
  pageName?: string;
}

export type RequestKind = 'summary' | 'timeseries' | 'breakdown-page' | 'breakdown-region';

export interface StatsRequest {
  view: View;
  filter: Filter;
  kind: RequestKind;
  interval?: 'day' | 'week' | 'month';
  path: string;
  label: string;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  return search.toString();
}

const FIRST_ROWS = 10;

/** Every request of one view and filter: summary, chart (each interval), top 10 pages and regions. */
export function viewRequests(view: View, filter: Filter): StatsRequest[] {
  const range = { startTime: view.from, endTime: view.to, region: filter.region, pageName: filter.pageName };
  const base = { view, filter };
  return [
    { ...base, kind: 'summary', path: `/aggregated-data/summary?${query(range)}`, label: 'summary' },
    ...view.intervals.map((interval) => ({
      ...base,
      kind: 'timeseries' as const,
      interval,
      path: `/aggregated-data/timeseries?${query({ interval, ...range })}`,
      label: `timeseries interval=${interval}`,
    })),
    ...(['page', 'region'] as const).map((by) => ({
      ...base,
      kind: `breakdown-${by}` as const,
      path: `/aggregated-data/breakdown?${query({ by, ...range, limit: FIRST_ROWS })}`,
      label: `breakdown by=${by} limit=${FIRST_ROWS}`,
    })),
  ];
}
