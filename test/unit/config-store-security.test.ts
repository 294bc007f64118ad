import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/runtime/config.js';

// Kafka TLS and SASL, InfluxDB credentials and the topic's replication: validated at start-up,
// with messages that name the variables.

const KAFKA = { KAFKA_BROKERS: 'kafka-0.kafka:9093' };

describe('Kafka security and topic settings', () => {
  it('defaults: plaintext, no SASL, replication factor 3', () => {
    expect(loadConfig(KAFKA).kafka).toMatchObject({ ssl: false, sasl: undefined, replicationFactor: 3 });
  });

  it('reads TLS, a SASL mechanism (any case) with its credentials, and the replication factor', () => {
    const kafka = loadConfig({
      ...KAFKA,
      KAFKA_SSL: 'TRUE',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'page-stats',
      KAFKA_SASL_PASSWORD: ' secret with spaces ',
      KAFKA_REPLICATION_FACTOR: '1',
    }).kafka;
    expect(kafka).toMatchObject({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'page-stats', password: ' secret with spaces ' },
      replicationFactor: 1,
    });
  });

  it.each([
    [{ KAFKA_SSL: 'yes' }, /KAFKA_SSL: expected true or false/],
    [
      { KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' },
      /KAFKA_SASL_MECHANISM: must be plain, scram-sha-256 or scram-sha-512/,
    ],
    [
      { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' },
      /KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: both are required with KAFKA_SASL_MECHANISM=plain/,
    ],
    [{ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, /KAFKA_SASL_MECHANISM: set it/],
    [{ KAFKA_REPLICATION_FACTOR: '0' }, /KAFKA_REPLICATION_FACTOR/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig({ ...KAFKA, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...KAFKA, ...env })).toThrow(message);
  });
});

describe('InfluxDB credentials', () => {
  const INFLUX = { INFLUX_URL: 'http://influxdb:8086' };

  it('reads a v1 user name and password, or a token', () => {
    expect(loadConfig({ ...INFLUX, INFLUX_USERNAME: 'page-stats', INFLUX_PASSWORD: 'pw' }).influx).toMatchObject({
      username: 'page-stats',
      password: 'pw',
      token: undefined,
    });
    expect(loadConfig({ ...INFLUX, INFLUX_TOKEN: 't0ken' }).influx).toMatchObject({ username: undefined, password: undefined, token: 't0ken' });
  });

  it.each([
    [{ INFLUX_USERNAME: 'page-stats' }, /INFLUX_USERNAME, INFLUX_PASSWORD: set both or neither/],
    [{ INFLUX_PASSWORD: 'pw' }, /INFLUX_USERNAME, INFLUX_PASSWORD: set both or neither/],
    [{ INFLUX_TOKEN: 't', INFLUX_USERNAME: 'u', INFLUX_PASSWORD: 'p' }, /INFLUX_TOKEN: set either a token/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig({ ...INFLUX, ...env })).toThrow(message);
  });
});
