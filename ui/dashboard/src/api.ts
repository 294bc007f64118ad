// Client for the page-stats admin API (same origin, session cookie). The dashboard reads only the
// stats endpoints, whose answers are sized by what it shows, never by the number of pages.

export type Granularity = 'daily' | 'weekly' | 'monthly';
export type Interval = 'day' | 'week' | 'month';
export type BreakdownBy = 'page' | 'region';

export const INTERVAL_OF: Record<Granularity, Interval> = { daily: 'day', weekly: 'week', monthly: 'month' };
export const GRANULARITY_OF: Record<Interval, Granularity> = { day: 'daily', week: 'weekly', month: 'monthly' };

export interface Session {
  authenticated: true;
  timezone: string;
  weekStart: number;
}

export interface SummaryResponse {
  startTime: string;
  endTime: string;
  timezone: string;
  views: number;
  previous: { startTime: string; endTime: string; views: number };
  pages: number;
  regions: number;
  botHits: number;
}

export interface TimeseriesPoint {
  periodStart: string;
  views: number;
}

export interface TimeseriesResponse {
  interval: Interval;
  timezone: string;
  startTime: string;
  endTime: string;
  points: TimeseriesPoint[];
}

export interface BreakdownRow {
  key: string;
  views: number;
}

export interface BreakdownResponse {
  by: BreakdownBy;
  startTime: string;
  endTime: string;
  /** Views of every key that matches the filters and the search. */
  total: number;
  /** Number of keys that match. */
  distinct: number;
  rows: BreakdownRow[];
  /** total minus the views of `rows`. */
  others: number;
}

export interface RealtimeResponse {
  minutes: number;
  since: string;
  total: number;
  perMinute: { minuteStart: string; views: number }[];
  topPages: BreakdownRow[];
}

export interface RegionsResponse {
  regions: string[];
}

/** status 0: the request never got an HTTP answer. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly details: unknown[] = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const isUnauthorized = (error: unknown): boolean => error instanceof ApiError && error.status === 401;

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      credentials: 'same-origin',
      ...init,
      headers: { accept: 'application/json', ...init.headers },
    });
  } catch (cause) {
    throw new ApiError('Cannot reach the server. Check your connection and try again.', 0, [cause]);
  }
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const { error, details } = (body ?? {}) as { error?: unknown; details?: unknown };
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new ApiError(
      typeof error === 'string' && error ? error : `Request failed (HTTP ${response.status})`,
      response.status,
      Array.isArray(details) ? details : [],
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
  return body as T;
}

export const getJson = <T>(path: string): Promise<T> => request<T>(path);

/**
 * Calendar days, both inclusive, as YYYY-MM-DD. The server counts them as whole days of its
 * report time zone (a bare-date endTime includes that day), so the days asked for are exactly
 * the days on screen, whatever the browser's own zone.
 */
export interface RangeQuery {
  from: string;
  to: string;
  region?: string | undefined;
  pageName?: string | undefined;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  return search.toString();
}

const rangeParams = (q: RangeQuery) => ({ startTime: q.from, endTime: q.to, region: q.region, pageName: q.pageName });

export const summaryUrl = (q: RangeQuery): string => `/aggregated-data/summary?${query(rangeParams(q))}`;

export const timeseriesUrl = (granularity: Granularity, q: RangeQuery): string =>
  `/aggregated-data/timeseries?${query({ interval: INTERVAL_OF[granularity], ...rangeParams(q) })}`;

export interface BreakdownPage {
  search?: string | undefined;
  limit?: number;
  offset?: number;
}

export const breakdownUrl = (by: BreakdownBy, q: RangeQuery, page: BreakdownPage = {}): string =>
  `/aggregated-data/breakdown?${query({
    by,
    ...rangeParams(q),
    search: page.search,
    limit: page.limit,
    offset: page.offset ? page.offset : undefined,
  })}`;

/** Every matching row as CSV, streamed by the server (no limit). */
export const breakdownCsvUrl = (by: BreakdownBy, q: RangeQuery, search?: string): string =>
  `/aggregated-data/breakdown?${query({ by, ...rangeParams(q), search, format: 'csv' })}`;

export const regionsUrl = '/aggregated-data/regions';

export const realtimeUrl = (minutes: number): string => `/aggregated-data/realtime?minutes=${minutes}&rows=false`;

/** Resolves to null when there is no valid session. */
export async function getSession(): Promise<Session | null> {
  try {
    const session = await request<Partial<Session>>('/api/session');
    return session.authenticated ? (session as Session) : null;
  } catch (error) {
    if (isUnauthorized(error)) return null;
    throw error;
  }
}

export const login = (password: string): Promise<void> =>
  request<void>('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password }),
  });

export const logout = (): Promise<void> => request<void>('/api/logout', { method: 'POST' });
