// The OpenAPI document is generated from the routes' own schemas: every documented query
// parameter is one the route accepts, and every parameter a route accepts is documented.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';

interface Operation {
  parameters?: Array<{ name: string; in: string; schema?: { maximum?: number } }>;
  security?: unknown[];
  responses?: Record<string, unknown>;
}

describe('GET /openapi.json', () => {
  let t: TestApp;
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>> };
  beforeAll(async () => {
    t = await startEmbeddedApp();
    const res = await fetch(`${t.url}/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as typeof doc;
  });
  afterAll(async () => await t?.close());

  it('describes every read endpoint, admin-only ones with their security', () => {
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/aggregated-data/summary',
      '/aggregated-data/timeseries',
      '/aggregated-data/breakdown',
      '/aggregated-data/region-daily',
      '/aggregated-data/region-weekly',
      '/aggregated-data/region-monthly',
      '/aggregated-data/regions',
      '/aggregated-data/bots',
      '/aggregated-data/realtime',
    ]) {
      const op = doc.paths[path]?.get;
      expect(op, path).toBeDefined();
      expect(op!.security, path).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
      expect(op!.responses?.['200'], path).toBeDefined();
    }
    expect(doc.paths['/admin/consolidate']?.post).toBeDefined();
    expect(doc.paths['/admin/import']?.post?.security).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
    expect(doc.paths['/admin/import']?.post?.parameters?.map((p) => p.name).sort()).toEqual(['name', 'skipBad']);
    expect(doc.paths['/admin/export']?.get?.parameters?.map((p) => p.name).sort()).toEqual(['from', 'to']);
    const limit = doc.paths['/aggregated-data/breakdown']!.get!.parameters!.find((p) => p.name === 'limit');
    expect(limit?.schema?.maximum).toBe(1000);
  });

  it.each(['summary', 'timeseries', 'breakdown', 'region-daily', 'bots', 'realtime'])(
    '%s: the documented parameters are exactly those the route accepts',
    async (name) => {
      const documented = doc.paths[`/aggregated-data/${name}`]!.get!.parameters!.filter((p) => p.in === 'query').map((p) => p.name);
      const res = await t.get(`/aggregated-data/${name}?notAParameter=1`);
      expect(res.status).toBe(400);
      const allowed = /allowed are (.*)$/.exec((res.body.details as string[]).join(' '))?.[1]?.split(', ');
      expect(allowed?.sort()).toEqual(documented.sort());
    },
  );
});
