// The recompute's read of one day at the cardinality shape, alone: the day written straight to a
// fresh influxd as schema-2 lines, then `InfluxEventStore.dailyCounts` timed with influxd's peak
// memory and this process's. Usage: tsx bench/cardinality/recompute-probe.ts [events]
import { InfluxEventStore } from '../../src/adapters/influx/event-store.js';
import { startInfluxDB } from '../../test/tooling/influxdb.js';
import { createInfluxDb, DAY_MS, lineBodies, utcDay, writeLines } from '../lib/dataset.js';
import { MiB, RssWatch, settledRss } from '../lib/influx-probe.js';
import { cpuSeconds, findPid, formatMs, now } from '../lib/stats.js';
import { ZipfDay } from '../lib/zipf-events.js';

const events = Number(process.argv[2] ?? 1_000_000);
const day = new ZipfDay(events, utcDay(Date.now(), 1));
const influx = await startInfluxDB();
try {
  const pid = findPid(influx.dir);
  if (pid === undefined) throw new Error('influxd process not found');
  const db = 'probe';
  await createInfluxDb(influx.url, db);
  const w0 = now();
  await writeLines(
    influx.url,
    db,
    lineBodies(day.count, 5_000, (i) => day.logged(i)),
    4,
  );
  console.log(`wrote ${events} events in ${formatMs(now() - w0)}; influxd RSS ${((await settledRss(pid)) / MiB).toFixed(0)} MiB`);
  const store = await InfluxEventStore.open({ url: influx.url, db, token: undefined, retention: 'INF', maxPageNames: 10_000, maxRegions: 1_000 });
  const watch = new RssWatch(pid, Number.POSITIVE_INFINITY, () => {});
  const self = setInterval(() => (selfPeak = Math.max(selfPeak, process.memoryUsage.rss())), 250);
  let selfPeak = process.memoryUsage.rss();
  const selfIdle = selfPeak;
  const c0 = now();
  const influxCpu0 = cpuSeconds(pid) ?? Number.NaN;
  const selfCpu0 = process.cpuUsage();
  const counts = await store.dailyCounts(day.start, day.start + DAY_MS, 'UTC');
  const ms = now() - c0;
  const influxCpu = (cpuSeconds(pid) ?? Number.NaN) - influxCpu0;
  const selfCpu = process.cpuUsage(selfCpu0);
  clearInterval(self);
  watch.stop();
  const views = counts.reduce((n, c) => n + c.views, 0);
  console.log(
    `dailyCounts: ${formatMs(ms)}, ${counts.length} rows, ${views} views of ${events} (${views === events ? 'exact' : 'WRONG'}); ` +
      `influxd peak RSS ${(watch.peak / MiB).toFixed(0)} MiB; this process ${(selfIdle / MiB).toFixed(0)} → peak ${(selfPeak / MiB).toFixed(0)} MiB; ` +
      `${((events / ms) * 1000).toFixed(0)} points/s; CPU per point: influxd ${((influxCpu * 1e6) / events).toFixed(1)} µs, ` +
      `this process ${((selfCpu.user + selfCpu.system) / events).toFixed(1)} µs`,
  );
  await store.close();
} finally {
  await influx.stop();
}
