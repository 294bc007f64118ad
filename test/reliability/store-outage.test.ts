import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, BROWSER_UA } from '../helpers/embedded-app.js';
import { distributedEnv } from '../helpers/distributed.js';
import { runCli, waitForHttp, type CliProcess } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';
import { startKafkaCluster, type KafkaCluster } from '../tooling/kafka.js';
import { startPrivatePostgres, type PrivatePostgres } from '../tooling/postgres.js';

/**
 * InfluxDB and PostgreSQL both down while visitors keep coming: ingest only needs Kafka to take
 * a page view, so it keeps answering 202 (and a new ingest replica starts), its admin routes say
 * 503 store_unavailable, and once the stores are back every event is counted exactly. InfluxDB
 * runs with authentication, the app logging in with INFLUX_USERNAME / INFLUX_PASSWORD.
 */

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const INFLUX_AUTH = { username: 'page-stats', password: 'influx-secret' };
const DAY = 86_400_000;
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

describe('ingest while InfluxDB and PostgreSQL are down', () => {
  let kafka: KafkaCluster;
  let influx: InfluxDB;
  let postgres: PrivatePostgres;
  let env: Record<string, string>;
  let ingestUrl: string;
  let ingestPort: number;
  let processingUrl: string;
  let ingest: CliProcess;
  const procs: CliProcess[] = [];
  const run = `outage-${Date.now().toString(36)}`;
  const sent = new Map<string, number>();

  const spawn = (args: string[], extra: Record<string, string> = {}): CliProcess => {
    const p = runCli(args, { ...env, ...extra });
    procs.push(p);
    return p;
  };
  const startIngest = async (): Promise<void> => {
    ingest = spawn(['ingest'], { PORT: String(ingestPort) });
    await waitForHttp(`${ingestUrl}/healthz`, 60_000, ingest);
  };
  /** `count` page views in batches of 10, over several pages; every answer must be 202. */
  const send = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i += 10) {
      const batch = Array.from({ length: Math.min(10, count - i) }, (_, j) => ({
        pageName: `/${run}/page-${(i + j) % 4}`,
        region: (i + j) % 3 === 0 ? 'DE' : 'US',
        timestamp: Date.now() - 1_000,
      }));
      const res = await fetch(`${ingestUrl}/page-view`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body: JSON.stringify(batch),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      for (const e of batch) sent.set(`${e.region} ${e.pageName}`, (sent.get(`${e.region} ${e.pageName}`) ?? 0) + 1);
    }
  };
  const readyz = async (): Promise<{ status: number; checks: Record<string, boolean> }> => {
    const res = await fetch(`${ingestUrl}/readyz`);
    return { status: res.status, checks: ((await res.json()) as { checks: Record<string, boolean> }).checks };
  };

  beforeAll(async () => {
    [kafka, influx, postgres] = await Promise.all([startKafkaCluster({ brokers: 3 }), startInfluxDB({ auth: INFLUX_AUTH }), startPrivatePostgres()]);
    ({ env } = await distributedEnv(
      kafka,
      { influxUrl: influx.url, databaseUrl: postgres.url },
      {
        INFLUX_USERNAME: INFLUX_AUTH.username,
        INFLUX_PASSWORD: INFLUX_AUTH.password,
        PROCESSING_BATCH_SIZE: '50',
      },
    ));
    const migrate = spawn(['migrate']);
    expect(await migrate.exited, migrate.output()).toBe(0);
    ingestPort = await freePort();
    ingestUrl = `http://127.0.0.1:${ingestPort}`;
    const processingPort = await freePort();
    processingUrl = `http://127.0.0.1:${processingPort}`;
    const processing = spawn(['processing'], { PORT: String(processingPort) });
    await Promise.all([startIngest(), waitForHttp(`${processingUrl}/healthz`, 60_000, processing)]);
  });

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.allSettled([kafka?.stop(), influx?.stop(), postgres?.destroy()]);
  });

  it('keeps answering 202, stays ready, and its admin routes answer 503 store_unavailable', async () => {
    await send(50);
    expect((await readyz()).status).toBe(200);

    await Promise.all([influx.kill('SIGKILL'), postgres.stop()]);
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.checks).toMatchObject({ eventLog: true, eventStore: false, rollupStore: false });
    await send(100);

    const summary = await fetch(`${ingestUrl}/aggregated-data/summary?startTime=${day(Date.now())}`, { headers: auth });
    expect(summary.status).toBe(503);
    expect(summary.headers.get('retry-after')).toBe('5');
    expect(await summary.json()).toEqual({ error: 'the rollup store (PostgreSQL) is unavailable; retry later', details: [], code: 'store_unavailable' });
    // Exports read their first rows before they answer: a 503 too, not a 500 or a 200 cut short.
    for (const format of ['csv', 'ndjson']) {
      const exported = await fetch(`${ingestUrl}/aggregated-data/region-daily?format=${format}&startTime=${day(Date.now())}`, { headers: auth });
      expect(exported.status).toBe(503);
      expect(exported.headers.get('content-disposition')).toBeNull();
      expect(await exported.json()).toEqual({ error: 'the rollup store (PostgreSQL) is unavailable; retry later', details: [], code: 'store_unavailable' });
    }
    const realtime = await fetch(`${ingestUrl}/aggregated-data/realtime`, { headers: auth });
    expect(realtime.status).toBe(503);
    expect(await realtime.json()).toMatchObject({ error: 'the event store (InfluxDB) is unavailable; retry later', code: 'store_unavailable' });
  });

  it('a new ingest replica starts while both are down and takes page views', async () => {
    ingest.child.kill('SIGTERM');
    expect(await ingest.exited).toBe(0);
    await startIngest();
    await send(50);
    expect((await readyz()).status).toBe(200);
  });

  it('once both are back, every acknowledged event is counted exactly', async () => {
    await Promise.all([influx.start(), postgres.start()]);
    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(200);
    const from = day(Date.now() - DAY);
    const to = day(Date.now() + DAY);
    const views = async (): Promise<number> => {
      // the CronJob's command, recomputing these days from InfluxDB
      const consolidate = spawn(['consolidate', '--from', from, '--to', to]);
      expect(await consolidate.exited, consolidate.output()).toBe(0);
      const res = await fetch(`${ingestUrl}/aggregated-data/summary?startTime=${from}&endTime=${to}`, { headers: auth });
      return res.status === 200 ? ((await res.json()) as { views: number }).views : -1;
    };
    await expect.poll(views, { timeout: 120_000, interval: 500 }).toBe(total);
    const daily = await fetch(`${ingestUrl}/aggregated-data/region-daily?startTime=${from}&endTime=${to}`, { headers: auth });
    const rows = ((await daily.json()) as { rows: Array<{ region: string; pageName: string; views: number }> }).rows;
    const counted = new Map<string, number>();
    for (const r of rows) counted.set(`${r.region} ${r.pageName}`, (counted.get(`${r.region} ${r.pageName}`) ?? 0) + r.views);
    expect(counted).toEqual(sent);
  });

  it('with InfluxDB down, a scheduled run still folds what processing recorded, then fails naming the recompute', async () => {
    // The runs above were explicit ranges, so the window's recompute is due on the next scheduled run.
    const processedBefore = await processedEvents();
    await send(30);
    await expect.poll(processedEvents, { timeout: 60_000, interval: 250 }).toBe(processedBefore + 30);
    await influx.kill('SIGKILL');
    try {
      const scheduled = spawn(['consolidate']);
      expect(await scheduled.exited, scheduled.output()).toBe(1);
      expect(scheduled.output()).toMatch(/window recompute failed: .*InfluxDB/);
      expect(scheduled.output()).toMatch(/the \d+ pending rows \(30 page views\) were folded in first/);
      const from = day(Date.now() - DAY);
      const to = day(Date.now() + DAY);
      const res = await fetch(`${ingestUrl}/aggregated-data/summary?startTime=${from}&endTime=${to}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { views: number }).views).toBe(230);
    } finally {
      await influx.start();
    }
  });

  /** Events processing stored and recorded, from its metrics. */
  async function processedEvents(): Promise<number> {
    const res = await fetch(`${processingUrl}/metrics`, { headers: auth });
    expect(res.status).toBe(200);
    const text = await res.text();
    return [...text.matchAll(/^page_stats_processing_events_total\{kind="page_view"\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  }
});
