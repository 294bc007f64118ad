import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBus } from '../../src/adapters/embedded/bus.js';
import { openPgliteWorker } from '../../src/adapters/embedded/pglite-worker.js';
import type { SqlDatabase } from '../../src/adapters/postgres/database.js';
import { systemClock } from '../../src/ports/clock.js';
import { createHttpServer } from '../../src/runtime/http-server.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createRegionResolver } from '../../src/services/ingest/region.js';
import { ingestRoutes } from '../../src/services/ingest/routes.js';

/**
 * The embedded event log is bounded like Kafka's: while its writes are held up, at most
 * `maxQueued` events wait, and further page views are refused at once with a 503 that stored
 * nothing, instead of piling up in memory.
 */
const MAX_QUEUED = 4;
const OVERLOADED = { error: 'ingest is overloaded; nothing was stored, retry later', details: [], code: 'event_log_unavailable' };

describe('embedded ingest under overload', () => {
  let db: SqlDatabase;
  let bus: EmbeddedBus;
  let app: FastifyInstance;
  let url: string;
  const registry = new Registry();

  beforeAll(async () => {
    db = await openPgliteWorker(undefined);
    bus = await EmbeddedBus.open(db, { maxQueued: MAX_QUEUED, registry });
    app = await createHttpServer({ logger: createLogger('fatal'), maxBodyBytes: 65_536, trustProxy: { kind: 'none' } });
    await app.register(ingestRoutes, {
      publisher: bus,
      clock: systemClock,
      lateArrivalWindowMs: 48 * 3_600_000,
      resolveRegion: createRegionResolver(undefined),
      allowedOrigins: [],
      rateLimitPerMinute: 0,
      registry,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await bus?.close();
    await db?.close();
  });

  const post = (pageName: string) =>
    fetch(`${url}/page-view`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pageName, region: 'DE' }) });
  const queued = async () => (await registry.getSingleMetric('page_stats_ingest_queued_events')!.get()).values[0]?.value ?? 0;
  const stored = async () => (await db.query<{ page_name: string }>('SELECT page_name FROM event_log ORDER BY log_offset')).rows.map((r) => r.page_name);

  it('refuses at once with 503 when the queue is full, stores nothing of a refused request, and takes page views again once the log writes', async () => {
    // A transaction held open on the log's database holds up the bus's INSERT, as a slow disk would.
    let release = (): void => {};
    let begun = (): void => {};
    const started = new Promise<void>((resolve) => (begun = resolve));
    const held = db.transaction(async () => {
      begun();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await started;

    const pages = Array.from({ length: 12 }, (_, i) => `/overload/${i}`);
    const answers = new Map<string, Response>();
    const requests = pages.map((page) => post(page).then((res) => answers.set(page, res)));

    // At most MAX_QUEUED wait and one group is being written: of 12 single-event requests,
    // at least 4 are refused while the log is held up, without waiting for it.
    await expect.poll(() => answers.size).toBeGreaterThanOrEqual(12 - 2 * MAX_QUEUED);
    for (const res of answers.values()) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toEqual(OVERLOADED);
    }
    expect(await queued()).toBeLessThanOrEqual(MAX_QUEUED);

    release();
    await held;
    await Promise.all(requests);
    const acknowledged = pages.filter((page) => answers.get(page)!.status === 202);
    const refused = pages.filter((page) => answers.get(page)!.status === 503);
    expect(acknowledged.length + refused.length).toBe(pages.length);
    expect(refused.length).toBeGreaterThanOrEqual(12 - 2 * MAX_QUEUED);
    expect((await stored()).sort()).toEqual(acknowledged.sort());
    expect(await queued()).toBe(0);

    const after = await post('/overload/after');
    expect(after.status).toBe(202);
    expect(await stored()).toContain('/overload/after');
  });
});
