import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/runtime/config.js';

describe('configuration', () => {
  it('has the documented defaults; unset stores mean embedded', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      dataDir: './data',
      reportTimeZone: 'UTC',
      weekStart: 1,
      lateArrivalWindowMs: 48 * 3_600_000,
      kafka: undefined,
      influx: undefined,
      databaseUrl: undefined,
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['REPORT_TIMEZONE', 'Mars/Olympus'],
    ['WEEK_START', 'someday'],
    ['LATE_ARRIVAL_WINDOW', 'forever'],
    ['RATE_LIMIT_PER_MINUTE', '-1'],
    ['CONSOLIDATE_SCHEDULE', 'every minute'],
    ['DATABASE_URL', 'not a url'],
    ['ADMIN_TOKEN', 'short'],
  ])('a bad %s stops start-up with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('reads distributed settings', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9092', INFLUX_URL: 'http://influx:8086', DATABASE_URL: 'postgres://x@y/z', TRUST_PROXY: '1' });
    expect(c.kafka?.brokers).toEqual(['a:9092', 'b:9092']);
    expect(c.kafka?.topic).toBe('page_view_events');
    expect(c.influx?.db).toBe('page_view_bucket');
    expect(c.trustProxy).toBe(1);
  });
});
