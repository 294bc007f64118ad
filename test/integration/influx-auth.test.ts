import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adapters } from '../../src/runtime/adapters.js';
import { loadConfig } from '../../src/runtime/config.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';

// InfluxDB 1.x with `auth-enabled = true`, as a production server runs: the app authenticates
// with INFLUX_USERNAME / INFLUX_PASSWORD, read from the environment like every setting.

const logger = pino({ level: 'silent' });
const AUTH = { username: 'page-stats', password: "a p@ss'word with spaces " };
const DAY = 86_400_000;

describe('InfluxDB with authentication', () => {
  let influx: InfluxDB;
  const opened: Adapters[] = [];
  const store = async (env: Record<string, string>) => {
    const adapters = new Adapters(loadConfig({ INFLUX_URL: influx.url, INFLUX_DB: 'auth_test', ...env }), logger);
    opened.push(adapters);
    return await adapters.eventStore();
  };

  beforeAll(async () => {
    influx = await startInfluxDB({ auth: AUTH });
  });
  afterAll(async () => {
    for (const a of opened) await a.close();
    await influx?.stop();
  });

  it('refuses a request without credentials (the server really checks)', async () => {
    const res = await fetch(`${influx.url}/query?q=SHOW%20DATABASES`);
    expect(res.status).toBe(401);
  });

  it('with INFLUX_USERNAME and INFLUX_PASSWORD the app creates its database, writes and counts', async () => {
    const events = await store({ INFLUX_USERNAME: AUTH.username, INFLUX_PASSWORD: AUTH.password });
    expect(await events.ready()).toBe(true);
    const day = Math.floor(Date.now() / DAY) * DAY - DAY;
    await events.write(
      Array.from({ length: 7 }, (_, i) => ({ timestamp: day + i * 1_000, region: 'DE', pageName: 'HomePage', bot: false, partition: 0, offset: String(i) })),
    );
    const counts = await events.dailyCounts(day, day + DAY, 'UTC');
    expect(counts).toEqual([{ dayStart: day, region: 'DE', pageName: 'HomePage', views: 7 }]);
  });

  it('with a wrong password or none the store is not ready and a write fails: nothing is dropped silently', async () => {
    const attempts: Array<Record<string, string>> = [{ INFLUX_USERNAME: AUTH.username, INFLUX_PASSWORD: 'wrong password' }, {}];
    for (const env of attempts) {
      const events = await store(env);
      expect(await events.ready()).toBe(false);
      await expect(events.write([{ timestamp: Date.now(), region: 'DE', pageName: '/x', bot: false, partition: 0, offset: '1' }])).rejects.toThrow(
        /401|authoriz/i,
      );
    }
  });
});
