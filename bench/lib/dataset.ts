import type { Kafka } from 'kafkajs';
import { encodeEvent } from '../../src/adapters/kafka/codec.js';
import { toLine } from '../../src/adapters/influx/line-protocol.js';
import type { LoggedEvent, PageViewEvent } from '../../src/domain/event.js';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** 250 region codes shaped like ISO 3166 ones (AA, AB, …, JP). */
export const REGIONS: readonly string[] = Array.from({ length: 250 }, (_, i) => `${LETTERS[Math.floor(i / 26)]}${LETTERS[i % 26]}`);
/** 10 pages, some with characters line protocol and SQL must escape. */
export const PAGES: readonly string[] = [
  '/',
  '/pricing',
  '/docs/getting-started',
  '/blog/ünïcødé',
  '/a b,c=d',
  "/o'brien",
  '/日本語/ページ',
  '/emoji/🎉',
  '/about',
  '/contact',
];
export const DAY_MS = 86_400_000;

/** Start (UTC midnight) of the day `daysAgo` days before the one holding `now`. */
export function utcDay(now: number, daysAgo: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS - daysAgo * DAY_MS;
}

export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

const PAIRS = 2_500;
const isBot = (i: number): boolean => (i + Math.floor(i / PAIRS)) % 100 === 99;

/** Page views (not bots) among events [0, count). */
export function pageViewsAmong(count: number): number {
  let bots = 0;
  for (let i = 0; i < count; i++) if (isBot(i)) bots++;
  return count - bots;
}

/**
 * Event `i` of `count` spread evenly over the day starting at `dayStart`: regions and pages cycle
 * so every one of the 2,500 (region, page) pairs gets a share; 1 % are bots, spread over the pairs.
 */
export function eventAt(i: number, count: number, dayStart: number): PageViewEvent {
  return {
    timestamp: dayStart + Math.floor((i * DAY_MS) / count),
    region: REGIONS[i % REGIONS.length]!,
    pageName: PAGES[Math.floor(i / REGIONS.length) % PAGES.length]!,
    bot: isBot(i),
  };
}

/** As processing would log it: round-robin partitions, offsets counting up per partition. */
export function loggedEventAt(i: number, count: number, dayStart: number, partitions: number): LoggedEvent {
  return { ...eventAt(i, count, dayStart), partition: i % partitions, offset: String(Math.floor(i / partitions)) };
}

/** Produces `count` events (the codec ingest uses) with acks from all in-sync replicas. */
export async function produceEvents(
  kafka: Kafka,
  topic: string,
  count: number,
  event: (i: number) => PageViewEvent,
  batch = 5_000,
  inFlight = 4,
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    let pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < count; i += batch) {
      const messages = [];
      for (let j = i; j < Math.min(count, i + batch); j++) messages.push({ value: encodeEvent(event(j)) });
      pending.push(producer.send({ topic, acks: -1, messages }));
      if (pending.length >= inFlight) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
  } finally {
    await producer.disconnect();
  }
}

/** Events in the log (sum of end offsets) and committed by a group, per topic. */
export async function logPosition(kafka: Kafka, topic: string, groupId: string): Promise<{ end: number; committed: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, groups] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    const end = ends.reduce((n, p) => n + Number(p.high), 0);
    const committed = (groups[0]?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    return { end, committed };
  } finally {
    await admin.disconnect();
  }
}

/**
 * The raw line-protocol writer: what InfluxDB can take at most from a client on this machine.
 * Plain `POST /write` of pre-built bodies, `concurrency` requests at a time.
 */
export async function writeLines(influxUrl: string, db: string, bodies: AsyncIterable<string> | Iterable<string>, concurrency: number): Promise<void> {
  const url = `${influxUrl}/write?db=${encodeURIComponent(db)}&precision=ns`;
  const running = new Set<Promise<void>>();
  let failure: unknown;
  for await (const body of bodies) {
    if (failure !== undefined) break;
    const p: Promise<void> = fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body })
      .then(async (res) => {
        const text = await res.text();
        if (res.status !== 204) throw new Error(`InfluxDB /write answered ${res.status}: ${text.slice(0, 300)}`);
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
}

/** Line-protocol bodies of `linesPerBody` lines for events [0, count), built lazily. */
export function* lineBodies(
  count: number,
  linesPerBody: number,
  event: (i: number) => LoggedEvent,
  line = (e: LoggedEvent) => toLine(e, e.pageName),
): Generator<string> {
  for (let i = 0; i < count; i += linesPerBody) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(count, i + linesPerBody); j++) lines.push(line(event(j)));
    yield lines.join('\n');
  }
}

export async function createInfluxDb(influxUrl: string, db: string): Promise<void> {
  const res = await fetch(`${influxUrl}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q: `CREATE DATABASE "${db}"` }).toString(),
  });
  if (res.status !== 200) throw new Error(`CREATE DATABASE ${db}: ${res.status} ${await res.text()}`);
}

/** Points stored in a measurement over [from, to), counted by InfluxDB itself. */
export async function countPoints(influxUrl: string, db: string, measurement: string, from: number, to: number): Promise<number> {
  const q = `SELECT count("t") FROM "${measurement}" WHERE time >= '${new Date(from).toISOString()}' AND time < '${new Date(to).toISOString()}'`;
  const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ db, q })}`);
  const body = (await res.json()) as { results?: Array<{ series?: Array<{ values?: unknown[][] }> }> };
  return Number(body.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
}
