import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distributedEnv } from '../helpers/distributed.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { ADMIN_TOKEN, BROWSER_UA } from '../helpers/embedded-app.js';
import { generateEvents, PAGES } from '../helpers/events.js';
import { apiCounts, expectedCounts, type Granularity } from '../helpers/expected-counts.js';
import { runCli, waitForHttp, type CliProcess } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';
import { startKafkaCluster, type KafkaCluster } from '../tooling/kafka.js';

const TZ = 'Europe/Berlin';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * ingest, processing and consolidator as separate OS processes, wired through a 3-broker Kafka
 * cluster, InfluxDB and PostgreSQL, with processing killed -9 in the middle of consuming.
 */
describe('distributed pipeline on real services', () => {
  let kafka: KafkaCluster;
  let influx: InfluxDB;
  let database: { url: string; drop(): Promise<void> };
  let env: Record<string, string>;
  let ingestUrl: string;
  let processingPort: number;
  const procs: CliProcess[] = [];
  const events = generateEvents(3_000, 7).map((e, i) => ({ ...e, pageName: i % 3 === 0 ? PAGES[i % PAGES.length]! : e.pageName }));

  const spawn = (args: string[], extra: Record<string, string> = {}): CliProcess => {
    const p = runCli(args, { ...env, ...extra });
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    [kafka, influx, database] = await Promise.all([startKafkaCluster({ brokers: 3 }), startInfluxDB(), createTestDatabase('distributed')]);
    ({ env } = await distributedEnv(
      kafka,
      { influxUrl: influx.url, databaseUrl: database.url },
      {
        REPORT_TIMEZONE: TZ,
        LATE_ARRIVAL_WINDOW: '1500d',
        PROCESSING_BATCH_SIZE: '200',
      },
    ));
    const migrate = spawn(['migrate']);
    expect(await migrate.exited, migrate.output()).toBe(0);
    const ingestPort = await freePort();
    processingPort = await freePort();
    ingestUrl = `http://127.0.0.1:${ingestPort}`;
    const ingest = spawn(['ingest'], { PORT: String(ingestPort) });
    const processing = spawn(['processing'], { PORT: String(processingPort) });
    await Promise.all([waitForHttp(`${ingestUrl}/healthz`, 60_000, ingest), waitForHttp(`http://127.0.0.1:${processingPort}/healthz`, 60_000, processing)]);
  });

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.allSettled([kafka?.stop(), influx?.stop(), database?.drop()]);
  });

  const processedSoFar = async (): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${processingPort}/metrics`, { headers: auth }).catch(() => undefined);
    const text = res?.ok ? await res.text() : '';
    return [...text.matchAll(/^page_stats_processing_events_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };

  it('counts exactly what was acknowledged, across a kill -9 of processing', async () => {
    let posted = 0;
    let killedAt = -1;
    for (let i = 0; i < events.length; i += 50) {
      const chunk = events.slice(i, i + 50);
      const res = await fetch(`${ingestUrl}/page-view`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body: JSON.stringify(chunk),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      posted += chunk.length;
      if (killedAt < 0 && posted >= events.length / 3) {
        await expect.poll(processedSoFar, { timeout: 60_000, interval: 50 }).toBeGreaterThan(0);
        // processing is consuming: kill it mid-stream and start a new one
        const victim = procs.find((p) => p.child.spawnargs.includes('processing') && p.child.exitCode === null)!;
        victim.child.kill('SIGKILL');
        await victim.exited;
        killedAt = posted;
        const port = await freePort();
        processingPort = port;
        const again = spawn(['processing'], { PORT: String(port) });
        await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, again);
      }
    }
    expect(posted).toBe(events.length);
    expect(killedAt).toBeGreaterThan(0);

    // consolidate (one-shot processes, as the CronJob runs them) until processing has caught up
    const range = 'startTime=2024-01-01T00:00:00Z&endTime=2026-03-01T00:00:00Z';
    const consolidatedViews = async (): Promise<number> => {
      const run = spawn(['consolidate', '--from', '2024-02-01', '--to', '2026-01-31']);
      expect(await run.exited, run.output()).toBe(0);
      const res = await fetch(`${ingestUrl}/aggregated-data/region-monthly?${range}`, { headers: auth });
      return (await res.json()).rows.reduce((n: number, r: { views: number }) => n + r.views, 0);
    };
    // A new processing member can need several rounds to join the mock cluster's group on a loaded
    // machine (see the request-window test), and each run here recomputes two years: minutes, not seconds.
    await expect.poll(consolidatedViews, { timeout: 300_000, interval: 1_000 }).toBe(events.length);

    for (const g of ['daily', 'weekly', 'monthly'] as Granularity[]) {
      const res = await fetch(`${ingestUrl}/aggregated-data/region-${g}?${range}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(apiCounts((await res.json()).rows, TZ), g).toEqual(expectedCounts(events, g, TZ, 1));
    }
  }, 420_000);

  it('page names with spaces, commas, =, quotes, backslashes, Unicode and metacharacters round-trip exactly', async () => {
    for (const page of PAGES) {
      const res = await fetch(
        `${ingestUrl}/aggregated-data/region-monthly?startTime=2024-01-01T00:00:00Z&endTime=2026-03-01T00:00:00Z&pageName=${encodeURIComponent(page)}`,
        { headers: auth },
      );
      const rows = (await res.json()).rows as Array<{ pageName: string; views: number }>;
      expect(rows.length, page).toBeGreaterThan(0);
      expect(new Set(rows.map((r) => r.pageName))).toEqual(new Set([page]));
      expect(rows.reduce((n, r) => n + r.views, 0)).toBe(events.filter((e) => e.pageName === page).length);
    }
  });

  it('consolidating twice changes nothing; readiness reports every dependency', async () => {
    const range = 'startTime=2024-01-01T00:00:00Z&endTime=2026-03-01T00:00:00Z';
    const before = await (await fetch(`${ingestUrl}/aggregated-data/region-weekly?${range}`, { headers: auth })).json();
    const run = spawn(['consolidate', '--from', '2024-02-01', '--to', '2026-01-31']);
    expect(await run.exited).toBe(0);
    const after = await (await fetch(`${ingestUrl}/aggregated-data/region-weekly?${range}`, { headers: auth })).json();
    expect(after.rows).toEqual(before.rows);
    const ready = await (await fetch(`${ingestUrl}/readyz`)).json();
    expect(ready.status).toBe('ready');
    expect(ready.checks).toMatchObject({ eventLog: true, rollupStore: true });
    const processingReady = await fetch(`http://127.0.0.1:${processingPort}/readyz`);
    expect((await processingReady.json()).checks).toMatchObject({ eventStore: true, processing: true });
  });
});
