// What influxd pays per point for each layout of a page-view point at the cardinality shape: the
// same events written as raw line protocol (5,000 lines a request, 4 at once, uncompressed) into
// databases of one fresh influxd, each layout in turn, three times, with influxd's CPU per point.
// Usage: tsx bench/cardinality/point-fields-probe.ts [events]
import { fieldValue, pointTime, tagValue, toLine } from '../../src/adapters/influx/line-protocol.js';
import type { LoggedEvent } from '../../src/domain/event.js';
import { startInfluxDB } from '../../test/tooling/influxdb.js';
import { createInfluxDb, lineBodies, utcDay, writeLines } from '../lib/dataset.js';
import { cpuSeconds, findPid, formatMs, now, sleep } from '../lib/stats.js';
import { ZipfDay } from '../lib/zipf-events.js';

const events = Number(process.argv[2] ?? 600_000);
const day = new ZipfDay(events, utcDay(Date.now(), 1));
const series = (e: LoggedEvent): string => `page_views,partition=${e.partition},region=${tagValue(e.region)}`;
const LAYOUTS: Record<string, (e: LoggedEvent) => string> = {
  'offset, t, page (until this release)': (e) =>
    `${series(e)} offset=${e.offset}i,t=${e.timestamp}i,page=${fieldValue(e.pageName)} ${pointTime(e.timestamp, e.offset)}`,
  't, page (this release)': (e) => toLine(e, e.pageName),
  'page only (for comparison)': (e) => `${series(e)} page=${fieldValue(e.pageName)} ${pointTime(e.timestamp, e.offset)}`,
};

/** Waits (at most 60 s) until influxd used under 2 % of a core over a second. */
async function settled(pid: number): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const c0 = cpuSeconds(pid)!;
    await sleep(1_000);
    if (cpuSeconds(pid)! - c0 < 0.02) return;
  }
}

const influx = await startInfluxDB();
try {
  const pid = findPid(influx.dir);
  if (pid === undefined) throw new Error('influxd process not found');
  console.log(`${events} events, 150 regions × 5,000 pages (Zipf), 12 partitions; a database per layout and round`);
  for (let round = 1; round <= 3; round++) {
    for (const [i, [name, line]] of Object.entries(LAYOUTS).entries()) {
      const db = `layout_${i}_${round}`;
      await createInfluxDb(influx.url, db);
      const bodies = [...lineBodies(day.count, 5_000, (j) => day.logged(j), line)]; // built before the clock starts
      const c0 = cpuSeconds(pid)!;
      const t0 = now();
      await writeLines(influx.url, db, bodies, 4);
      const ms = now() - t0;
      // influxd's work for these points goes on after the last answer (the cache snapshot, compactions):
      // counted until it is idle, so no layout pays for the one before it
      await settled(pid);
      const us = ((cpuSeconds(pid)! - c0) * 1e6) / events;
      console.log(`round ${round}, ${name}: ${formatMs(ms)} (${Math.round(events / (ms / 1000))} points/s), influxd ${us.toFixed(2)} µs of CPU per point`);
    }
  }
} finally {
  await influx.stop();
}
