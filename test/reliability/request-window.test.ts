// Processing keeps generated request ids in memory, per partition. A copy of a request (a produce
// sent again after its acknowledgement was lost) must still be dropped when the process that saw
// the first copy was killed, and when the partition was with another member of the group for a
// while and came back. The copies are written to the topic as a retried produce writes them: the
// same messages, same request id and indexes, same partition, at later offsets.
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEvent } from '../../src/adapters/kafka/codec.js';
import { distributedEnv } from '../helpers/distributed.js';
import { ADMIN_TOKEN } from '../helpers/embedded-app.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { runCli, waitForHttp, type CliProcess } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';
import { startKafkaCluster, type KafkaCluster } from '../tooling/kafka.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const DAY = 86_400_000;
const PARTITIONS = [0, 1, 2];

describe('generated request ids after a restart and a rebalance', { timeout: 600_000 }, () => {
  let kafka: KafkaCluster;
  let influx: InfluxDB;
  let database: { url: string; drop(): Promise<void> };
  let env: Record<string, string>;
  let topic: string;
  let apiPort: number;
  let producer: Producer;
  const procs: CliProcess[] = [];

  const spawn = (args: string[], extra: Record<string, string> = {}): CliProcess => {
    const p = runCli(args, { ...env, ...extra });
    procs.push(p);
    return p;
  };
  /**
   * A `page-stats processing` member of the group, once it has joined. The mock cluster's group
   * coordinator sometimes answers a member joining a group that has one with INVALID_REQUEST to its
   * SyncGroup (the mock completes a sync as soon as the leader's SyncGroup arrives, and refuses a
   * follower's that comes after it, which a follower slowed by other work on the machine does); the
   * consumer survives that by creating itself again with backoff, which while other test files load
   * the machine can take minutes, hence the long wait. The member's log comes with a timeout.
   */
  const startProcessing = async (): Promise<{ proc: CliProcess; port: number }> => {
    const port = await freePort();
    const proc = spawn(['processing'], { PORT: String(port) });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, proc);
    try {
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status, { timeout: 300_000, interval: 500 }).toBe(200);
    } catch (error) {
      throw new Error(`processing did not join the group; its log:\n${proc.output().slice(-8_000)}`, { cause: error });
    }
    return { proc, port };
  };
  const kill = async (p: CliProcess): Promise<void> => {
    p.child.kill('SIGKILL');
    await p.exited;
  };
  const metric = async (port: number, pattern: RegExp): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: auth })).text();
    return [...text.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0);
  };
  /** One produce request per request, as ingest writes it: its events are consecutive messages of one partition. */
  const send = async (partition: number, requestId: string, page: string, events: number): Promise<void> => {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: events }, (_, index) => ({
        partition,
        value: encodeEvent({ timestamp: Date.now(), region: 'DE', pageName: page, bot: false, requestId, index }),
      })),
    });
  };
  /** Views per page name today, after a consolidation run. */
  const viewsByPage = async (): Promise<Map<string, number>> => {
    const run = spawn(['consolidate']);
    expect(await run.exited, run.output()).toBe(0);
    const res = await fetch(`http://127.0.0.1:${apiPort}/aggregated-data/breakdown?by=page&limit=1000&startTime=${Date.now() - DAY}`, { headers: auth });
    const body = (await res.json()) as { rows: Array<{ key: string; views: number }> };
    return new Map(body.rows.map((r) => [r.key, r.views]));
  };
  const counted = async (pages: string[]): Promise<Array<number | undefined>> => {
    const views = await viewsByPage();
    return pages.map((p) => views.get(p));
  };

  beforeAll(async () => {
    [kafka, influx, database] = await Promise.all([startKafkaCluster({ brokers: 3 }), startInfluxDB(), createTestDatabase('request_window')]);
    ({ env, topic } = await distributedEnv(kafka, { influxUrl: influx.url, databaseUrl: database.url }));
    const migrate = spawn(['migrate']);
    expect(await migrate.exited, migrate.output()).toBe(0);
    apiPort = await freePort();
    // ingest serves the admin API the counts are read from
    const api = spawn(['ingest'], { PORT: String(apiPort) });
    await waitForHttp(`http://127.0.0.1:${apiPort}/healthz`, 60_000, api);
    producer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({ idempotent: false });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect().catch(() => {});
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.allSettled([kafka?.stop(), influx?.stop(), database?.drop()]);
  });

  let survivor: { proc: CliProcess; port: number };

  it('a copy arriving after kill -9 and restart is counted once', async () => {
    const first = await startProcessing();
    for (const p of PARTITIONS) await send(p, `ingest-a.1.1.r${p}`, `/restart/r${p}`, 2);
    await expect.poll(async () => await counted(PARTITIONS.map((p) => `/restart/r${p}`)), { timeout: 60_000, interval: 1_000 }).toEqual([2, 2, 2]);
    await kill(first.proc);

    // The new process starts with empty windows; the copies come after the originals, then a new request.
    survivor = await startProcessing();
    for (const p of PARTITIONS) {
      await send(p, `ingest-a.1.1.r${p}`, `/restart/r${p}`, 2);
      await send(p, `ingest-a.1.1.n${p}`, `/restart/n${p}`, 1);
    }
    await expect.poll(async () => await counted(PARTITIONS.map((p) => `/restart/n${p}`)), { timeout: 60_000, interval: 1_000 }).toEqual([1, 1, 1]);
    expect(await counted(PARTITIONS.map((p) => `/restart/r${p}`))).toEqual([2, 2, 2]);
    expect(await metric(survivor.port, /^page_stats_processing_dropped_total\{reason="copy"\} (\d+)/gm)).toBe(6);
  });

  it('a copy arriving after the partition came back from another member is counted once', async () => {
    // A second member takes some partitions and processes first copies there.
    const other = await startProcessing();
    for (const p of PARTITIONS) await send(p, `ingest-b.1.1.t${p}`, `/rebalance/t${p}`, 2);
    await expect.poll(async () => await counted(PARTITIONS.map((p) => `/rebalance/t${p}`)), { timeout: 60_000, interval: 1_000 }).toEqual([2, 2, 2]);
    expect(await metric(other.port, /^page_stats_processing_events_total\{kind="page_view"\} (\d+)/gm)).toBeGreaterThan(0);

    // It dies; its partitions go back to the survivor, whose windows for them are missing those requests.
    await kill(other.proc);
    for (const p of PARTITIONS) {
      await send(p, `ingest-b.1.1.t${p}`, `/rebalance/t${p}`, 2);
      await send(p, `ingest-b.1.1.m${p}`, `/rebalance/m${p}`, 1);
    }
    await expect.poll(async () => await counted(PARTITIONS.map((p) => `/rebalance/m${p}`)), { timeout: 90_000, interval: 1_000 }).toEqual([1, 1, 1]);
    expect(await counted(PARTITIONS.map((p) => `/rebalance/t${p}`))).toEqual([2, 2, 2]);
  });
});
