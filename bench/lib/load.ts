import autocannon from 'autocannon';
import { cpuSeconds } from './stats.js';

/** A normal desktop browser: bot filtering must treat the load as page views. */
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** request bodies, sent in turn on each connection */
  bodies?: string[];
  /** request paths (with query), sent in turn on each connection instead of the url's own */
  paths?: string[];
  connections: number;
  /** run for this long … */
  durationSeconds?: number;
  /** … or until this many requests were answered */
  amount?: number;
  /** status every response must have; others count as errors */
  expectStatus: number;
  /** the server's process, to report its CPU time per request */
  serverPid?: number | undefined;
}

export interface LoadResult {
  /** responses with the expected status */
  ok: number;
  /** of those, per second over the run */
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  /** autocannon's run time (whole seconds when it ran for `amount` requests) */
  durationSeconds: number;
  /** wall-clock time of the run, measured here (to the last answer for an `amount` run) */
  elapsedMs: number;
  /** server CPU time per answered request, in microseconds */
  serverCpuUs: number | undefined;
}

/**
 * One autocannon run. The load generator runs in this process; the server under test always runs
 * in a process of its own, so they share the machine's cores, not an event loop.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const requests =
    o.paths === undefined
      ? (o.bodies ?? [undefined]).map((body) => ({
          method: o.method ?? 'GET',
          ...(body === undefined ? {} : { body }),
        }))
      : o.paths.map((path) => ({ method: o.method ?? 'GET', path }));
  const cpuBefore = cpuSeconds(o.serverPid);
  const started = performance.now();
  let lastAnswer = started;
  const instance = autocannon({
    url: o.url,
    connections: o.connections,
    ...(o.amount === undefined ? { duration: o.durationSeconds ?? 10 } : { amount: o.amount }),
    headers: { 'user-agent': BROWSER_UA, ...o.headers },
    requests,
    timeout: 30,
  });
  // autocannon ends an `amount` run on its next one-second tick: time it to the last answer.
  instance.on('response', () => {
    lastAnswer = performance.now();
  });
  const result = await instance;
  const elapsedMs = (o.amount === undefined ? performance.now() : lastAnswer) - started;
  const cpuAfter = cpuSeconds(o.serverPid);
  const ok = result.statusCodeStats?.[String(o.expectStatus)]?.count ?? 0;
  const answered = Object.values(result.statusCodeStats ?? {}).reduce((n, s) => n + s.count, 0);
  return {
    ok,
    rps: o.amount === undefined ? ok / result.duration : ok / (elapsedMs / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.timeouts + (answered - ok),
    durationSeconds: result.duration,
    elapsedMs,
    serverCpuUs: cpuBefore === undefined || cpuAfter === undefined || ok === 0 ? undefined : ((cpuAfter - cpuBefore) / ok) * 1e6,
  };
}

/** A short unmeasured run first (JIT, connection set-up, batching settling), then the measured one. */
export async function warmAndRun(o: LoadOptions, warmupSeconds: number): Promise<LoadResult> {
  if (warmupSeconds > 0) await runLoad({ ...o, durationSeconds: warmupSeconds, amount: undefined });
  return await runLoad(o);
}
