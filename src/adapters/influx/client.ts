import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';

const gzip = promisify(gzipCb);

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
  partial?: boolean;
}

export class InfluxError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InfluxError';
  }
}

/**
 * The InfluxDB v1 HTTP API (`/write`, `/query`, `/ping`): InfluxDB 1.x serves it natively,
 * 2.x through its v1 compatibility API and 3.x as well, so this one client covers all three.
 */
export class InfluxHttp {
  private readonly headers: Record<string, string>;

  constructor(
    private readonly baseUrl: string,
    token: string | undefined,
    private readonly timeoutMs = 10_000,
  ) {
    this.headers = token === undefined ? {} : { authorization: `Token ${token}` };
  }

  async write(db: string, lines: readonly string[]): Promise<void> {
    const body = await gzip(Buffer.from(lines.join('\n'), 'utf8'));
    const res = await this.request(`/write?db=${encodeURIComponent(db)}&precision=ns`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip' },
      body,
    });
    if (res.status === 204) return;
    const text = await res.text();
    // Points older than the retention policy are dropped by design, the rest of the batch is
    // stored: retrying would only loop on them.
    if (res.status === 400 && text.includes('beyond retention policy')) return;
    throw new InfluxError(`InfluxDB write failed: ${res.status} ${text}`, res.status);
  }

  /** Runs one InfluxQL statement; results of a chunked response are joined. */
  async query(db: string | undefined, q: string, method: 'GET' | 'POST' = 'GET'): Promise<InfluxSeries[]> {
    const params = new URLSearchParams({ q, epoch: 'ms', chunked: 'true', chunk_size: '10000' });
    if (db !== undefined) params.set('db', db);
    const res =
      method === 'GET'
        ? await this.request(`/query?${params}`, { method: 'GET' })
        : await this.request('/query', {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: params.toString(),
          });
    const text = await res.text();
    if (res.status !== 200) throw new InfluxError(`InfluxDB query failed: ${res.status} ${text}`, res.status);
    const series = new Map<string, InfluxSeries>();
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const chunk = JSON.parse(line) as { results?: Array<{ error?: string; series?: InfluxSeries[] }>; error?: string };
      if (chunk.error !== undefined) throw new InfluxError(`InfluxDB: ${chunk.error}`, res.status);
      for (const result of chunk.results ?? []) {
        if (result.error !== undefined) throw new InfluxError(`InfluxDB: ${result.error}`, res.status);
        for (const s of result.series ?? []) {
          // A series cut across chunks arrives as several parts with the same name and tags.
          const key = `${s.name}\u0000${JSON.stringify(s.tags ?? {})}`;
          const seen = series.get(key);
          if (seen === undefined) series.set(key, { ...s, values: [...(s.values ?? [])] });
          else seen.values.push(...(s.values ?? []));
        }
      }
    }
    return [...series.values()];
  }

  async ping(): Promise<boolean> {
    try {
      const res = await this.request('/ping', { method: 'GET' }, 2_000);
      return res.status === 204 || res.status === 200;
    } catch {
      return false;
    }
  }

  private async request(path: string, init: RequestInit & { headers?: Record<string, string> }, timeoutMs = this.timeoutMs): Promise<Response> {
    try {
      return await fetch(this.baseUrl.replace(/\/$/, '') + path, {
        ...init,
        headers: { ...this.headers, ...init.headers },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw new InfluxError(`InfluxDB at ${this.baseUrl} is unreachable`, undefined, { cause });
    }
  }
}
