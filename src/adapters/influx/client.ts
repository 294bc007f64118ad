import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { promisify } from 'node:util';
import { constants, gzip as gzipCb } from 'node:zlib';

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
  private readonly base: URL;
  private readonly agent: HttpAgent;

  /**
   * `credentials`: a token (InfluxDB 2.x/3.x, `Authorization: Token …`), or a v1 user name and
   * password (1.x with auth-enabled, 2.x for v1-authorised users), sent as HTTP basic auth rather
   * than `u`/`p` query parameters, which end up in access logs.
   */
  constructor(
    private readonly baseUrl: string,
    credentials: string | { username: string; password: string } | undefined,
    private readonly timeoutMs = 10_000,
  ) {
    this.headers =
      credentials === undefined
        ? {}
        : typeof credentials === 'string'
          ? { authorization: `Token ${credentials}` }
          : { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}` };
    this.base = new URL(baseUrl.replace(/\/$/, ''));
    this.agent = this.base.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  async write(db: string, lines: readonly string[]): Promise<void> {
    // The fastest gzip level: a sixth larger than the default level, under a third of its CPU time.
    const body = await gzip(Buffer.from(lines.join('\n'), 'utf8'), { level: constants.Z_BEST_SPEED });
    const res = await this.request(`/write?db=${encodeURIComponent(db)}&precision=ns`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip' },
      body,
    });
    if (res.status === 204) return;
    const text = res.text;
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
    const text = res.text;
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

  /**
   * Runs one InfluxQL read and hands each part of each series to `each` as the chunked answer
   * streams in, so memory follows one chunk (10,000 points), not the answer. `idleMs` bounds the
   * time without a byte from the server, not the whole read: a long read that progresses is fine,
   * a hung server is an error. Times come as epoch milliseconds, or with `times: 'rfc3339'` as
   * InfluxDB's RFC 3339 strings, which keep the nanoseconds (epoch nanoseconds exceed what a
   * JSON number holds exactly).
   */
  async queryEach(db: string, q: string, each: (series: InfluxSeries) => void, idleMs = this.timeoutMs, times: 'ms' | 'rfc3339' = 'ms'): Promise<void> {
    const params = new URLSearchParams({ db, q, chunked: 'true', chunk_size: '10000' });
    if (times === 'ms') params.set('epoch', 'ms');
    let rest = '';
    let failed: InfluxError | undefined;
    const line = (text: string, status: number) => {
      if (text.trim() === '' || failed !== undefined) return;
      const chunk = JSON.parse(text) as { results?: Array<{ error?: string; series?: InfluxSeries[] }>; error?: string };
      if (chunk.error !== undefined) failed = new InfluxError(`InfluxDB: ${chunk.error}`, status);
      for (const result of chunk.results ?? []) {
        if (result.error !== undefined) failed ??= new InfluxError(`InfluxDB: ${result.error}`, status);
        for (const s of result.series ?? []) if (failed === undefined) each({ ...s, values: s.values ?? [] });
      }
    };
    // A piece of the answer can end inside a multi-byte character: the decoder keeps its first bytes for the next piece.
    const utf8 = new StringDecoder('utf8');
    const res = await this.request(`/query?${params}`, { method: 'GET' }, idleMs, (status, data) => {
      if (status !== 200) return false;
      rest += utf8.write(data);
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) line(l, status);
      return true;
    });
    if (res.status !== 200) throw new InfluxError(`InfluxDB query failed: ${res.status} ${res.text}`, res.status);
    line(rest + utf8.end(), res.status);
    if (failed !== undefined) throw failed;
  }

  async ping(): Promise<boolean> {
    try {
      const res = await this.request('/ping', { method: 'GET' }, 2_000);
      return res.status === 204 || res.status === 200;
    } catch {
      return false;
    }
  }

  /**
   * One request on a kept-alive connection, its whole body read, within `timeoutMs` in total (a
   * hung server becomes an error, like an unreachable one). node:http rather than fetch: writes
   * are a few large bodies a second, and fetch's per-request machinery showed in the profile.
   * With `onData` the body goes to it as it arrives (while it returns true; the text then holds
   * only what it refused), and `timeoutMs` bounds the time between two pieces instead.
   */
  private request(
    path: string,
    init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: Buffer | string },
    timeoutMs = this.timeoutMs,
    onData?: (status: number, data: Buffer) => boolean,
  ): Promise<{ status: number; text: string }> {
    const unreachable = (cause: unknown): InfluxError => new InfluxError(`InfluxDB at ${this.baseUrl} is unreachable`, undefined, { cause });
    return new Promise((resolve, reject) => {
      const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
      const headers: OutgoingHttpHeaders = { ...this.headers, ...init.headers };
      if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      };
      const req = send(url, { method: init.method, headers, agent: this.agent }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          if (onData === undefined) return chunks.push(chunk);
          arm();
          try {
            if (!onData(res.statusCode ?? 0, chunk)) chunks.push(chunk);
          } catch (err) {
            req.destroy(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(unreachable(err));
        });
        // A connection cut mid-body (or destroyed by the timeout) ends the response without 'end'.
        res.on('close', () => {
          clearTimeout(timer);
          if (!res.complete) reject(unreachable(new Error('connection closed before the response was complete')));
        });
      });
      arm();
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(unreachable(err));
      });
      req.end(init.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
