import { setTimeout as sleep } from 'node:timers/promises';
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { PageViewEvent } from '../domain/event.js';
import { systemClock } from '../ports/clock.js';
import { ProcessingService } from '../services/processing/processor.js';
import { Adapters } from './adapters.js';
import type { Config } from './config.js';
import { openConsolidator } from './one-shot.js';

const REGIONS: Array<[string, number, number]> = [
  // region, weight, UTC offset in hours (for a day/night rhythm)
  ['US', 30, -5],
  ['DE', 12, 1],
  ['GB', 10, 0],
  ['IN', 8, 5],
  ['FR', 7, 1],
  ['BR', 5, -3],
  ['JP', 5, 9],
  ['CA', 5, -5],
  ['IT', 3, 1],
  ['NL', 3, 1],
  ['ES', 3, 1],
  ['AU', 3, 10],
  ['PL', 2, 1],
  ['SE', 2, 1],
  ['unknown', 2, 0],
];
const PAGES: Array<[string, number]> = [
  ['/', 30],
  ['/pricing', 14],
  ['/docs', 12],
  ['/docs/getting-started', 10],
  ['/blog', 8],
  ['/blog/launch-week', 7],
  ['/features', 7],
  ['/about', 4],
  ['/changelog', 4],
  ['/contact', 2],
  ['/careers', 2],
];

/** Deterministic pseudo-random numbers (mulberry32), so every demo looks the same. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(items: Array<[T, number, ...unknown[]]>, r: number): [T, number, ...unknown[]] {
  const total = items.reduce((n, i) => n + i[1], 0);
  let x = r * total;
  for (const item of items) {
    x -= item[1];
    if (x < 0) return item;
  }
  return items[items.length - 1]!;
}

/** A month of page views: a growing trend, quieter weekends and nights, ~4 % bots. */
export function demoEvents(now: number, days = 30): PageViewEvent[] {
  const rnd = random(20_261_128);
  const events: PageViewEvent[] = [];
  const first = DateTime.fromMillis(now, { zone: 'UTC' })
    .startOf('day')
    .minus({ days: days - 1 });
  for (let d = 0; d < days; d++) {
    const day = first.plus({ days: d });
    const weekend = day.weekday >= 6 ? 0.6 : 1;
    const volume = Math.round(1_800 * (1 + d * 0.012) * weekend * (0.9 + rnd() * 0.2));
    for (let i = 0; i < volume; i++) {
      const [region, , offset] = pick(REGIONS, rnd()) as [string, number, number];
      // Visits cluster around the visitor's afternoon.
      const localHour = Math.min(23.99, Math.max(0, 14 + (rnd() + rnd() + rnd() - 1.5) * 8));
      const ts = day.toMillis() + Math.round((localHour - offset) * 3_600_000) + Math.floor(rnd() * 60_000);
      if (ts > now || ts < first.toMillis()) continue;
      const [pageName] = pick(PAGES, rnd());
      events.push({ timestamp: ts, region, pageName, bot: rnd() < 0.04 });
    }
  }
  return events;
}

/** `page-stats demo`: fills DATA_DIR (or the configured stores) through the pipeline, then consolidates. */
export async function seedDemo(config: Config, logger: Logger, options: { force: boolean }): Promise<void> {
  const adapters = new Adapters(config, logger);
  try {
    const rollups = await adapters.rollupStore();
    await rollups.migrate();
    if (!options.force && (await rollups.regions()).length > 0) {
      logger.info('demo_data_present');
      process.stdout.write('page-stats demo: data already present, starting (use --force to add another month)\n');
      return;
    }
    const now = systemClock.now();
    const events = demoEvents(now);
    process.stdout.write(`page-stats demo: publishing ${events.length} page views from the last 30 days…\n`);
    const publisher = await adapters.publisher();
    for (let i = 0; i < events.length; i += 2_000) await publisher.publish(events.slice(i, i + 2_000));

    const store = await adapters.eventStore();
    const processing = new ProcessingService(await adapters.consumer(), store, rollups, logger, new Registry(), {
      lateArrivalWindowMs: config.lateArrivalWindowMs,
    });
    await processing.start();
    const from = now - 32 * 86_400_000;
    const expected = events.filter((e) => !e.bot).length;
    for (;;) {
      const stored = (await store.dailyCounts(from, now + 1, 'UTC')).reduce((n, c) => n + c.views, 0);
      process.stdout.write(`\r  processed ${stored} / ${expected}`);
      if (stored >= expected) break;
      await sleep(250);
    }
    process.stdout.write('\n');
    await processing.stop();
    const consolidator = await openConsolidator(config, adapters, logger);
    const zone = config.reportTimeZone;
    const result = await consolidator.run({
      from: DateTime.fromMillis(from, { zone }).toISODate() ?? undefined,
      to: DateTime.fromMillis(now, { zone }).toISODate() ?? undefined,
    });
    process.stdout.write(`page-stats demo: consolidated ${result.days} days (${result.dailyRows} daily rows)\n`);
  } finally {
    await adapters.close();
  }
}
