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
    ['ADMIN_PASSWORD', 'a'],
    ['ADMIN_PASSWORD', '1234567'],
    ['TRUST_PROXY', 'yes'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '11'],
    ['ALLOWED_ORIGINS', 'site.example'],
    ['ALLOWED_ORIGINS', 'https://site.example/path'],
    ['ALLOWED_ORIGINS', 'https://site.example, *'],
    ['REQUEST_TIMEOUT', 'soon'],
    ['MAX_REGIONS', '0'],
  ])('a bad %s stops start-up with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('reads distributed settings', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9092', INFLUX_URL: 'http://influx:8086', DATABASE_URL: 'postgres://x@y/z', TRUST_PROXY: '1' });
    expect(c.kafka?.brokers).toEqual(['a:9092', 'b:9092']);
    expect(c.kafka?.topic).toBe('page_view_events');
    expect(c.influx?.db).toBe('page_view_bucket');
    expect(c.trustProxy).toEqual({ kind: 'hops', hops: 1 });
  });

  it('refuses TRUST_PROXY=true and says why', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(
      /TRUST_PROXY: "true" would trust every address in X-Forwarded-For, and its left end is written by the client/,
    );
    expect(() => loadConfig({ TRUST_PROXY: 'TRUE' })).toThrow(/TRUST_PROXY/);
  });

  it('reads TRUST_PROXY as off, a hop count, or addresses and CIDR ranges', () => {
    expect(loadConfig({}).trustProxy).toEqual({ kind: 'none' });
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toEqual({ kind: 'none' });
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toEqual({ kind: 'hops', hops: 2 });
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1, loopback' }).trustProxy).toEqual({
      kind: 'addresses',
      ranges: ['127.0.0.1', '10.0.0.0/8', '::1', 'loopback'],
    });
  });

  it('normalises ALLOWED_ORIGINS to what browsers send (trailing slash, capitals, default port)', () => {
    expect(loadConfig({ ALLOWED_ORIGINS: 'https://Site.Example/, http://localhost:3000, https://site.example:443' }).allowedOrigins).toEqual([
      'https://site.example',
      'http://localhost:3000',
    ]);
  });

  it('accepts an admin password of 8 characters or more', () => {
    expect(loadConfig({ ADMIN_PASSWORD: '12345678' }).admin.password).toBe('12345678');
    expect(() => loadConfig({ ADMIN_PASSWORD: 'short' })).toThrow(/ADMIN_PASSWORD: must be at least 8 characters/);
  });
});
