import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { rssBytes } from './memory.js';
import { now } from './stats.js';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

/** Memory the kernel could hand out now without swapping (MemAvailable). */
export function availableMemory(): number {
  const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return match === null ? 0 : Number(match[1]) * 1024;
}

export interface QueryAnswer {
  ms: number;
  /** bytes of the response body */
  bytes: number;
  /** series in the answer (each a (region, page) pair for a count grouped by both) */
  series: number;
  /** the sum of the first value column over every row */
  total: number;
}

/**
 * One InfluxQL query over HTTP as the adapter sends it (epoch ms, chunked by 10,000), its whole
 * answer read and summed; `timeoutMs` bounds it (an AbortError past it).
 */
export async function timedInfluxQuery(influxUrl: string, db: string, q: string, timeoutMs: number): Promise<QueryAnswer> {
  const params = new URLSearchParams({ db, q, epoch: 'ms', chunked: 'true', chunk_size: '10000' });
  const t0 = now();
  const res = await fetch(`${influxUrl}/query?${params}`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  const ms = now() - t0;
  if (res.status !== 200) throw new Error(`InfluxDB query failed: ${res.status} ${text.slice(0, 300)}`);
  const keys = new Set<string>();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const chunk = JSON.parse(line) as { results?: Array<{ error?: string; series?: Array<{ tags?: unknown; values?: unknown[][] }> }> };
    for (const r of chunk.results ?? []) {
      if (r.error !== undefined) throw new Error(`InfluxDB: ${r.error}`);
      for (const s of r.series ?? []) {
        keys.add(JSON.stringify(s.tags ?? {}));
        for (const v of s.values ?? []) total += Number(v[1] ?? 0);
      }
    }
  }
  return { ms, bytes: Buffer.byteLength(text), series: keys.size, total };
}

/** `SHOW SERIES CARDINALITY` (InfluxDB's estimate) and the exact count, of one database. */
export async function seriesCardinality(influxUrl: string, db: string): Promise<{ estimate: number; exact: number | undefined }> {
  const value = async (q: string): Promise<number> => {
    const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ db, q })}`, { signal: AbortSignal.timeout(600_000) });
    const body = (await res.json()) as { results?: Array<{ error?: string; series?: Array<{ values?: unknown[][] }> }> };
    const result = body.results?.[0];
    if (result?.error !== undefined) throw new Error(result.error);
    // one row per database (estimate) or per measurement (exact): add them up
    return (result?.series ?? []).reduce((n, s) => n + (s.values ?? []).reduce((m, v) => m + Number(v[0] ?? 0), 0), 0);
  };
  const estimate = await value('SHOW SERIES CARDINALITY');
  const exact = await value('SHOW SERIES EXACT CARDINALITY').catch(() => undefined);
  return { estimate, exact };
}

/**
 * Samples a process's resident memory every 250 ms; `over` fires once when it passes `limit`
 * (bytes), so a run that would exhaust a shared machine can be stopped in time.
 */
export class RssWatch {
  peak = 0;
  private readonly timer: NodeJS.Timeout;
  private fired = false;

  constructor(
    private readonly pid: number,
    private readonly limit: number,
    private readonly over: (rss: number) => void,
  ) {
    this.timer = setInterval(() => this.sample(), 250);
    this.timer.unref();
  }

  sample(): number {
    const rss = rssBytes(this.pid) ?? 0;
    this.peak = Math.max(this.peak, rss);
    if (rss > this.limit && !this.fired) {
      this.fired = true;
      this.over(rss);
    }
    return rss;
  }

  get exceeded(): boolean {
    return this.fired;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The resident memory of a process a few seconds after a burst of work (median of samples). */
export async function settledRss(pid: number, seconds = 5): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < seconds * 4; i++) {
    await new Promise((r) => setTimeout(r, 250));
    samples.push(rssBytes(pid) ?? 0);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

export interface CountingProxy {
  url: string;
  /** bytes of the answers to /query requests, and how many there were */
  queryBytes: number;
  queries: number;
  close(): Promise<void>;
}

/** An HTTP proxy in front of InfluxDB that counts what its queries return. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const to = new URL(target);
  const proxy: CountingProxy = { url: '', queryBytes: 0, queries: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const isQuery = (req.url ?? '').startsWith('/query');
    if (isQuery) proxy.queries++;
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (isQuery) answer.on('data', (d: Buffer) => (proxy.queryBytes += d.length));
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
