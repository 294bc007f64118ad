import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, BROWSER_UA } from '../helpers/embedded-app.js';
import { runCli, waitForHttp, type CliProcess } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';
import { startKafkaCluster, type KafkaCluster } from '../tooling/kafka.js';
import { startKafkaSecurityProxy, type KafkaSecurityProxy } from '../tooling/kafka-security-proxy.js';

/**
 * A Kafka cluster that takes only TLS and SASL/PLAIN (test/tooling/kafka-security-proxy.ts in
 * front of the mock broker): `page-stats ingest` configured with KAFKA_SSL and KAFKA_SASL_*
 * stores page views through it; with a wrong password or without TLS it stores nothing and says
 * it is not ready. The broker's certificate comes from a private CA, trusted through Node's
 * NODE_EXTRA_CA_CERTS, as the README says.
 */

const TOPIC = 'secured_page_views';
const USER = 'page-stats';
const PASSWORD = 'kafka secret';

describe('Kafka with TLS and SASL', () => {
  let kafka: KafkaCluster;
  let proxy: KafkaSecurityProxy;
  let dir: string;
  const procs: CliProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'page-stats-kafka-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    kafka = await startKafkaCluster({ brokers: 1, topics: [{ name: TOPIC, partitions: 1, replication: 1 }] });
    proxy = await startKafkaSecurityProxy({
      upstream: kafka.brokers[0]!,
      username: USER,
      password: PASSWORD,
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    });
  });

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await proxy?.stop();
    await kafka?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ingest = async (env: Record<string, string>): Promise<string> => {
    const port = await freePort();
    const p = runCli(['ingest'], {
      KAFKA_BROKERS: proxy.address,
      KAFKA_TOPIC: TOPIC,
      NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'),
      ADMIN_TOKEN,
      RATE_LIMIT_PER_MINUTE: '0',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    });
    procs.push(p);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/healthz`, 60_000, p);
    return url;
  };
  const send = (url: string) =>
    fetch(`${url}/page-view`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
      body: JSON.stringify({ pageName: '/secured', region: 'DE' }),
    });
  const stored = async (): Promise<number> => {
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(TOPIC)).reduce((n, p) => n + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  };

  it('with KAFKA_SSL and the right SASL user, ingest logs in over TLS and stores page views', async () => {
    const url = await ingest({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD: PASSWORD });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await send(url)).status).toBe(202);
    expect(await stored()).toBe(3);
    expect(proxy.logins.length).toBeGreaterThan(0);
    expect(proxy.logins.every((l) => l.username === USER && l.ok)).toBe(true);
    expect(proxy.refused).toEqual([]);
  });

  it('with a wrong password it stores nothing: not ready, 503', async () => {
    const before = await stored();
    const url = await ingest({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD: 'wrong' });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect((await send(url)).status).toBe(503);
    expect(proxy.logins.some((l) => !l.ok)).toBe(true);
    expect(await stored()).toBe(before);
  });

  it('without KAFKA_SSL the TLS-only broker is unreachable: not ready, 503', async () => {
    const url = await ingest({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD: PASSWORD });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect((await send(url)).status).toBe(503);
  });
});
