// Client for the page-stats admin API (same origin, session cookie).

export type Granularity = 'daily' | 'weekly' | 'monthly';

export interface Session {
  authenticated: true;
  timezone: string;
  weekStart: number;
}

export interface AggregatedRow {
  periodStart: string;
  region: string;
  pageName: string;
  views: number;
}

export interface AggregatedResponse {
  granularity: Granularity;
  timezone: string;
  startTime: string;
  endTime: string;
  rows: AggregatedRow[];
}

export interface BotsResponse {
  timezone: string;
  total: number;
  rows: { periodStart: string; hits: number }[];
}

export interface RealtimeRow {
  minuteStart: string;
  region: string;
  pageName: string;
  views: number;
}

export interface RealtimeResponse {
  minutes: number;
  since: string;
  total: number;
  rows: RealtimeRow[];
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

export const isUnauthorized = (error: unknown): boolean =>
  error instanceof ApiError && error.status === 401;

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

export interface RangeQuery {
  start: Date;
  end: Date;
  region?: string;
  pageName?: string;
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  return search.toString();
}

export const aggregatedUrl = (granularity: Granularity, q: RangeQuery): string =>
  `/aggregated-data/region-${granularity}?` +
  query({
    region: q.region,
    pageName: q.pageName,
    startTime: q.start.toISOString(),
    endTime: q.end.toISOString(),
  });

export const botsUrl = (q: RangeQuery): string =>
  `/aggregated-data/bots?${query({ startTime: q.start.toISOString(), endTime: q.end.toISOString() })}`;

export const regionsUrl = '/aggregated-data/regions';

export const realtimeUrl = (minutes: number): string => `/aggregated-data/realtime?minutes=${minutes}`;

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
