import { startInfluxDB } from '../../test/tooling/influxdb.js';
import type { BenchContext } from '../lib/context.js';
import { createInfluxDb } from '../lib/dataset.js';
import { availableMemory, GiB, MiB, RssWatch, seriesCardinality, settledRss, timedInfluxQuery } from '../lib/influx-probe.js';
import { num } from '../lib/report.js';
import { findPid, formatMs, log, now } from '../lib/stats.js';
import { schema1CountQuery, schema1Line, type ZipfDay } from '../lib/zipf-events.js';

export interface VariantResult {
  /** events of the day written (the before side stops early if influxd would exhaust the machine) */
  events: number;
  /** points influxd refused: past `max-series-per-database` (1,000,000 by default) a new series is dropped */
  dropped: number;
  series: number;
  seriesExact: number | undefined;
  /** points per second while the day was written */
  writeRate: number;
  /** influxd resident memory a few seconds after the day was written, and its peak meanwhile */
  rssMiB: number;
  peakRssMiB: number;
  /** the full-day count: time, answer size in bytes, rows (day × region × page) */
  countMs: number | undefined;
  countBytes: number | undefined;
  countRows: number | undefined;
  /** after: when dailyCounts failed, its reads replayed without the client's time limit */
  countReplayMs?: number;
  slowestReadMs?: number;
  /** page views the full-day count found */
  countedViews?: number;
  /** why the count has no time (timed out, influxd stopped at the memory limit) */
  countFailure?: string;
}

/** How long the previous release's count query may take at this shape. */
const COUNT_TIMEOUT_MS = 20 * 60_000;
const DB = 'page_view_bucket';

/**
 * Plain `/write` of line-protocol bodies, `concurrency` at a time, as dataset.ts's writeLines, but a
 * partial write is counted, not thrown: InfluxDB 1.x answers 400 `partial write: max-series-per-
 * database limit exceeded … dropped=N` and stores the rest of the body.
 */
async function writeCountingDrops(
  influxUrl: string,
  bodies: Iterable<string>,
  concurrency: number,
): Promise<{ dropped: number; firstDrop: string | undefined }> {
  const url = `${influxUrl}/write?db=${DB}&precision=ns`;
  const running = new Set<Promise<void>>();
  let dropped = 0;
  let firstDrop: string | undefined;
  let failure: unknown;
  for (const body of bodies) {
    if (failure !== undefined) break;
    const p: Promise<void> = fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body })
      .then(async (res) => {
        const text = await res.text();
        if (res.status === 204) return;
        const partial = /partial write.*dropped=(\d+)/.exec(text);
        if (res.status !== 400 || partial === null) throw new Error(`InfluxDB /write answered ${res.status}: ${text.slice(0, 300)}`);
        dropped += Number(partial[1]);
        firstDrop ??= text.slice(0, 200);
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => running.delete(p));
    running.add(p);
    if (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
  return { dropped, firstDrop };
}

/**
 * Before: the day as the previous release stored it — schema 1, one series per page × partition ×
 * region — written with plain `/write` requests (5,000 lines, 4 at a time) into an influxd of its
 * own (the tests' configuration), then the previous release's consolidation query for the day.
 * influxd is stopped if its memory would exhaust the machine (shared with other runs): the day is
 * then reported at the volume reached.
 */
export async function measureBefore(ctx: BenchContext, day: ZipfDay): Promise<VariantResult> {
  const influx = await startInfluxDB();
  const pid = findPid(influx.dir);
  if (pid === undefined) throw new Error('influxd process not found');
  const limit = Math.min(16 * GiB, availableMemory() - 3 * GiB);
  let stopReason: string | undefined;
  const watch = new RssWatch(pid, limit, (rss) => {
    stopReason = `influxd reached ${num(rss / MiB)} MiB resident, over the limit of ${num(limit / MiB)} MiB (memory available minus 3 GiB)`;
    log(`cardinality before: ${stopReason}; stopping it`);
    void influx.kill('SIGKILL');
  });
  try {
    await createInfluxDb(influx.url, DB);
    log(`cardinality before: writing ${num(day.count)} events as schema 1 (influxd memory limit ${num(limit / MiB)} MiB)`);
    let written = 0;
    function* bodies(): Generator<string> {
      for (let i = 0; i < day.count && stopReason === undefined; i += 5_000) {
        const lines: string[] = [];
        for (let j = i; j < Math.min(day.count, i + 5_000); j++) lines.push(schema1Line(day.logged(j)));
        written = Math.min(day.count, i + 5_000);
        yield lines.join('\n');
      }
    }
    const t0 = now();
    let drops: { dropped: number; firstDrop: string | undefined } = { dropped: 0, firstDrop: undefined };
    try {
      drops = await writeCountingDrops(influx.url, bodies(), 4);
    } catch (err) {
      if (stopReason === undefined) throw err;
    }
    const writeMs = now() - t0;
    const result: VariantResult = {
      events: written,
      dropped: drops.dropped,
      series: 0,
      seriesExact: undefined,
      writeRate: written / (writeMs / 1000),
      rssMiB: Number.NaN,
      peakRssMiB: watch.peak / MiB,
      countMs: undefined,
      countBytes: undefined,
      countRows: undefined,
    };
    ctx.detail(
      `cardinality before: ${num(written)} schema-1 points written in ${formatMs(writeMs)} (${num(result.writeRate)} points/s)` +
        (drops.dropped > 0 ? `; influxd dropped ${num(drops.dropped)} of them: ${drops.firstDrop ?? ''}` : ''),
    );
    if (stopReason !== undefined) {
      result.countFailure = stopReason;
      return result;
    }
    result.rssMiB = (await settledRss(pid)) / MiB;
    const cardinality = await seriesCardinality(influx.url, DB);
    result.series = cardinality.estimate;
    result.seriesExact = cardinality.exact;
    ctx.detail(
      `cardinality before: ${num(result.series)} series (SHOW SERIES CARDINALITY; exact ${cardinality.exact === undefined ? '—' : num(cardinality.exact)}), ` +
        `influxd RSS ${num(result.rssMiB)} MiB after the day was written (peak ${num(watch.peak / MiB)} MiB while writing)`,
    );

    const q = schema1CountQuery(day.start);
    log(`cardinality before: the previous release's count query (timeout ${COUNT_TIMEOUT_MS / 60_000} min)`);
    try {
      const answer = await timedInfluxQuery(influx.url, DB, q, COUNT_TIMEOUT_MS);
      result.countMs = answer.ms;
      result.countBytes = answer.bytes;
      result.countRows = answer.series;
      ctx.detail(
        `cardinality before: count query ${formatMs(answer.ms)}, answer ${num(answer.bytes / MiB)} MiB, ${num(answer.series)} (region, page) rows, ` +
          `${num(answer.total)} views (written ${num(written)}, dropped ${num(drops.dropped)}); influxd peak RSS ${num(watch.peak / MiB)} MiB; ${q}`,
      );
      result.countedViews = answer.total;
      if (answer.total !== written - drops.dropped) {
        // Past max-series-per-database influxd drops more than its partial-write answers report.
        ctx.detail(
          `cardinality before: the count is ${num(written - answer.total)} short of the ${num(written)} events written (${num(drops.dropped)} reported dropped)`,
        );
      }
    } catch (err) {
      result.countFailure =
        stopReason ?? (err instanceof Error && err.name === 'TimeoutError' ? `timed out after ${COUNT_TIMEOUT_MS / 60_000} min` : String(err));
      ctx.detail(`cardinality before: count query failed: ${result.countFailure}`);
    }
    result.peakRssMiB = watch.peak / MiB;
    return result;
  } finally {
    watch.stop();
    await influx.stop();
  }
}
