import { Adapters } from '../../src/runtime/adapters.js';
import { loadConfig } from '../../src/runtime/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { openConsolidator } from '../../src/runtime/one-shot.js';
import type { Consolidator, ConsolidationResult } from '../../src/services/consolidator/consolidator.js';
import type { BenchContext } from '../lib/context.js';
import { createInfluxDb, isoDate, lineBodies, loggedEventAt, pageViewsAmong, writeLines } from '../lib/dataset.js';
import { num } from '../lib/report.js';
import { startRecordingProxy } from '../lib/recording-proxy.js';
import { formatMs, log, median, now } from '../lib/stats.js';

export interface ConsolidationSetup {
  consolidator: Consolidator;
  adapters: Adapters;
}

/** Writes `count` events of one day into an InfluxDB database, as processing stores them. */
export async function seedDay(influxUrl: string, db: string, day: number, count: number): Promise<number> {
  await createInfluxDb(influxUrl, db);
  const t0 = now();
  await writeLines(
    influxUrl,
    db,
    lineBodies(count, 5_000, (i) => loggedEventAt(i, count, day, 12)),
    4,
  );
  return now() - t0;
}

/** The consolidator as `page-stats consolidate` builds it, on InfluxDB and PostgreSQL. */
export async function consolidatorFor(influxUrl: string, db: string, databaseUrl: string): Promise<ConsolidationSetup> {
  const config = loadConfig({ INFLUX_URL: influxUrl, INFLUX_DB: db, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', REPORT_TIMEZONE: 'UTC' });
  const logger = createLogger('warn');
  const adapters = new Adapters(config, logger);
  const consolidator = await openConsolidator(config, adapters, logger);
  return { consolidator, adapters };
}

/** One consolidation run of one day, timed. */
export async function timedRun(setup: ConsolidationSetup, day: string): Promise<{ ms: number; result: ConsolidationResult }> {
  const t0 = now();
  const result = await setup.consolidator.run({ from: day, to: day });
  return { ms: now() - t0, result };
}

/**
 * The page-view count query exactly as the consolidator sends it: one untimed run through a
 * recording proxy in front of InfluxDB. Returns the URL to replay straight to InfluxDB.
 */
export async function capturedCountQuery(influxUrl: string, db: string, databaseUrl: string, day: string): Promise<string> {
  const proxy = await startRecordingProxy(influxUrl);
  const setup = await consolidatorFor(proxy.url, db, databaseUrl);
  try {
    await setup.consolidator.run({ from: day, to: day });
  } finally {
    await setup.adapters.close();
    await proxy.close();
  }
  const isCount = (q: string | null): boolean => q?.startsWith('SELECT count(') === true && q.includes('FROM "page_view"');
  const path = proxy.paths.find((p) => p.startsWith('/query?') && isCount(new URL(p, influxUrl).searchParams.get('q')));
  if (path === undefined) throw new Error(`the consolidator sent no page_view count query: ${proxy.paths.join(', ')}`);
  return new URL(path, influxUrl).href;
}

/** The page-view count query alone, over HTTP, its whole response read (not parsed). */
export async function timedQuery(url: string): Promise<number> {
  const t0 = now();
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200 || text.includes('"error"')) throw new Error(`InfluxDB query failed: ${res.status} ${text.slice(0, 300)}`);
  return now() - t0;
}

/**
 * consolidator-service: one day of events in InfluxDB rolled up into PostgreSQL (daily rows
 * replaced, weeks and months recomputed, one transaction). Baseline: the InfluxQL count query
 * the consolidator issues, alone over HTTP. Runs alternate; medians are compared.
 */
export async function benchConsolidation(ctx: BenchContext): Promise<void> {
  const { options, services } = ctx;
  const n = options.consolidationEvents;
  const influx = await services.influx();
  const databaseUrl = await services.postgres('consolidation');
  const dayStart = Date.parse('2026-03-11T00:00:00Z');
  const day = isoDate(dayStart);
  const db = 'bench_consolidation';
  log(`consolidation: writing ${num(n)} events of ${day} into InfluxDB`);
  const seedMs = await seedDay(influx.url, db, dayStart, n);
  ctx.detail(`consolidation setup: ${num(n)} events written with raw /write in ${formatMs(seedMs)} (${num(n / (seedMs / 1000))} events/s)`);

  const query = await capturedCountQuery(influx.url, db, databaseUrl, day);
  const setup = await consolidatorFor(influx.url, db, databaseUrl);
  try {
    const first = await timedRun(setup, day);
    ctx.detail(`consolidation: ${JSON.stringify({ ...first.result, durationMs: undefined })}; count query: ${new URL(query).searchParams.get('q')}`);
    const expectedViews = pageViewsAmong(n);
    const rows = await (await setup.adapters.rollupStore()).query({ granularity: 'daily', start: dayStart, end: dayStart + 86_400_000 });
    const sum = rows.reduce((s, r) => s + r.views, 0);
    ctx.detail(`consolidation check: ${num(sum)} views in region_daily for ${day} (${num(expectedViews)} page views written), ${first.result.dailyRows} rows`);
    if (sum !== expectedViews) throw new Error(`consolidation counted ${sum} views, expected ${expectedViews}`);

    const ours: number[] = [];
    const baseline: number[] = [];
    const rounds = Math.max(options.rounds, 2);
    for (let round = 1; round <= rounds; round++) {
      baseline.push(await timedQuery(query));
      ours.push((await timedRun(setup, day)).ms);
      ctx.detail(`consolidation round ${round}: count query ${formatMs(baseline.at(-1)!)}, consolidation ${formatMs(ours.at(-1)!)}`);
    }
    ctx.add({
      stage: 'consolidation',
      figure: `one day, ${num(n)} events, 2,500 (region, page) rows`,
      unit: 'ms',
      ours: median(ours),
      baseline: median(baseline),
      baselineLabel: 'its InfluxQL count query alone',
      goal: { kind: 'ratio-at-most', value: 2 },
    });
  } finally {
    await setup.adapters.close();
  }
}
