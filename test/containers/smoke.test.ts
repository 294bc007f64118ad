import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_UA } from '../helpers/embedded-app.js';
import { freePorts } from '../tooling/free-port.js';
import { type Container, ContainerRun, prepareImages } from './docker.js';
import { CONFIG, environment, podContainer, type PodContainer } from './manifest-pods.js';

/**
 * The distributed stack in containers, run the way deploy/k8s/base runs it: the project's image
 * (built here from Debian packages and Node.js from npm, deploy/docker/build-local.sh) as
 * migrate, ingest, processing and the consolidator CronJob's one-shot run, with each manifest's
 * user, read-only root filesystem, capabilities, emptyDirs and variables; nginx with the
 * project's ui/nginx.conf and the UI files copied out of the image by the init container's
 * command; InfluxDB (authentication on) and PostgreSQL from Debian packages; librdkafka's mock
 * cluster as Kafka. Host networking: everything listens on loopback ports of this machine.
 * `npm run test:containers` runs only this file.
 */

const NODE_UID = 1000;
const ADMIN_TOKEN = 'smoke-admin-token-0123456789abcdef';
const ADMIN_PASSWORD = 'smoke test password';
const PG_PASSWORD = 'smoke-pg-password';
const INFLUX_AUTH = { username: 'page-stats', password: 'smoke-influx-password' };
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const today = (offsetDays = 0): string => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(250);
  }
}

const httpOk = (url: string, init?: RequestInit) => async () => ((await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) })).ok ? true : undefined);

describe('the distributed stack in containers', () => {
  const run = new ContainerRun(`page-stats-smoke-${process.pid}`);
  let images: { app: string; services: string };
  let dir: string;
  const containers: Record<string, Container> = {};
  const ports = { postgres: 0, influx: 0, influxRpc: 0, ingest: 0, processing: 0, nginx: 0, start: 0 };
  let values: Record<string, string>;
  const nginxUrl = (): string => `http://127.0.0.1:${ports.nginx}`;

  /** `docker run` options for a role of the image: the manifest's security and its variables. */
  const appOptions = (pod: PodContainer, role: string, extra: Record<string, string> = {}): string[] => {
    const file = join(dir, `${role}.env`);
    const env = { ...environment(pod, { ...values, ...extra }), HOST: '127.0.0.1' };
    writeFileSync(
      file,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
      { mode: 0o600 },
    );
    return [...pod.options, '--env-file', file];
  };
  const pods = {
    migrate: podContainer('Job', 'migrate', 'migrate'),
    ingest: podContainer('Deployment', 'ingest-service', 'ingest'),
    processing: podContainer('Deployment', 'processing-service', 'processing'),
    consolidate: podContainer('CronJob', 'consolidator-service', 'consolidate'),
    uiFiles: podContainer('Deployment', 'nginx', 'ui-files', { init: true, mountedElsewhere: ['/srv/ui', '/srv/templates'] }),
    nginx: podContainer('Deployment', 'nginx', 'nginx', { mountedElsewhere: ['/srv/ui', '/etc/nginx/templates'] }),
  };

  /** The consolidator as the CronJob runs it: one run, then the container exits. */
  const consolidate = async (): Promise<void> => {
    const result = await run.once('consolidate', appOptions(pods.consolidate, 'consolidate'), images.app, pods.consolidate.args);
    expect(result.code, result.output).toBe(0);
  };

  beforeAll(async () => {
    images = await prepareImages();
    await run.removeAll();
    dir = mkdtempSync(join(tmpdir(), 'page-stats-smoke-'));
    chmodSync(dir, 0o755);
    [ports.postgres, ports.influx, ports.influxRpc, ports.ingest, ports.processing, ports.nginx, ports.start] = (await freePorts(7)) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];

    // Kafka: the mock cluster, its topic created as `page-stats migrate` would (the mock cannot)
    const topic = `${CONFIG.KAFKA_TOPIC}:${CONFIG.KAFKA_PARTITIONS}:${CONFIG.KAFKA_REPLICATION_FACTOR}`;
    containers.kafka = await run.start('kafka', ['-i'], images.services, ['kafka-mock-cluster', '--brokers', '3', '--topic', topic]);
    // PostgreSQL: a fresh cluster on a tmpfs, password authentication, loopback only
    containers.postgres = await run.start('postgres', ['--user', 'postgres', '--tmpfs', '/pg:mode=1777', '-e', `PG_PASSWORD=${PG_PASSWORD}`], images.services, [
      'sh',
      '-c',
      'echo "$PG_PASSWORD" > /pg/pw && initdb -D /pg/data -U page_stats --pwfile=/pg/pw -A scram-sha-256 --no-sync >/dev/null && rm /pg/pw && ' +
        `exec postgres -D /pg/data -p ${ports.postgres} -k /pg -c listen_addresses=127.0.0.1 -c fsync=off`,
    ]);
    // InfluxDB with authentication
    mkdirSync(join(dir, 'influx'));
    writeFileSync(
      join(dir, 'influx', 'influxdb.conf'),
      `reporting-enabled = false\nbind-address = "127.0.0.1:${ports.influxRpc}"\n[meta]\n  dir = "/influx/meta"\n[data]\n  dir = "/influx/data"\n  wal-dir = "/influx/wal"\n  query-log-enabled = false\n` +
        `[monitor]\n  store-enabled = false\n[http]\n  bind-address = "127.0.0.1:${ports.influx}"\n  auth-enabled = true\n  log-enabled = false\n[logging]\n  level = "info"\n  suppress-logo = true\n`,
      { mode: 0o644 },
    );
    containers.influx = await run.start(
      'influx',
      ['--user', 'influxdb', '--tmpfs', '/influx:mode=1777', '-v', `${join(dir, 'influx')}:/etc/page-stats:ro`],
      images.services,
      ['influxd', '-config', '/etc/page-stats/influxdb.conf'],
    );

    const bootstrap = await until('the Kafka mock printing its brokers', 30_000, async () => /^BOOTSTRAP (\S+)$/m.exec(await containers.kafka!.logs())?.[1]);
    await until('PostgreSQL accepting connections over TCP', 60_000, async () =>
      (await containers.postgres!.exec(['pg_isready', '-h', '127.0.0.1', '-p', String(ports.postgres)])).code === 0 ? true : undefined,
    );
    await until('InfluxDB answering /ping', 60_000, async () => ((await fetch(`http://127.0.0.1:${ports.influx}/ping`)).status === 204 ? true : undefined));
    // auth-enabled: the first user may be created without credentials, and must be an admin
    const q = `CREATE USER "${INFLUX_AUTH.username}" WITH PASSWORD '${INFLUX_AUTH.password}' WITH ALL PRIVILEGES`;
    expect((await fetch(`http://127.0.0.1:${ports.influx}/query`, { method: 'POST', body: new URLSearchParams({ q }) })).status).toBe(200);

    values = {
      KAFKA_BROKERS: bootstrap,
      INFLUX_URL: `http://127.0.0.1:${ports.influx}`,
      INFLUX_USERNAME: INFLUX_AUTH.username,
      INFLUX_PASSWORD: INFLUX_AUTH.password,
      DATABASE_URL: `postgres://page_stats:${PG_PASSWORD}@127.0.0.1:${ports.postgres}/postgres`,
      ADMIN_TOKEN,
      ADMIN_PASSWORD,
    };

    const migrate = await run.once('migrate', appOptions(pods.migrate, 'migrate'), images.app, pods.migrate.args);
    expect(migrate.code, migrate.output).toBe(0);

    containers.ingest = await run.start('ingest', appOptions(pods.ingest, 'ingest', { PORT: String(ports.ingest) }), images.app, pods.ingest.args);
    containers.processing = await run.start(
      'processing',
      appOptions(pods.processing, 'processing', { PORT: String(ports.processing) }),
      images.app,
      pods.processing.args,
    );

    // nginx: the init container's command copies the UI and the template out of the image
    for (const sub of ['ui', 'templates']) {
      mkdirSync(join(dir, sub));
      chownSync(join(dir, sub), NODE_UID, NODE_UID);
    }
    const [shell, ...shellArgs] = pods.uiFiles.command!;
    const uiFiles = await run.once(
      'ui-files',
      [...pods.uiFiles.options, '-v', `${join(dir, 'ui')}:/srv/ui`, '-v', `${join(dir, 'templates')}:/srv/templates`, '--entrypoint', shell!],
      images.app,
      shellArgs,
    );
    expect(uiFiles.code, uiFiles.output).toBe(0);
    // what the official nginx image's entrypoint does with /etc/nginx/templates, then nginx with the manifest's arguments
    const nginxEnv = { ...pods.nginx.envValues, NGINX_PORT: `127.0.0.1:${ports.nginx}`, APP_UPSTREAM: `127.0.0.1:${ports.ingest}` };
    const variables = ['NGINX_PORT', 'APP_UPSTREAM', 'UI_ROOT', 'NGINX_ACCESS_LOG'].map((v) => `\${${v}}`).join(' ');
    containers.nginx = await run.start(
      'nginx',
      [
        ...pods.nginx.options,
        ...Object.entries(nginxEnv).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
        '-v',
        `${join(dir, 'ui')}:/srv/ui:ro`,
        '-v',
        `${join(dir, 'templates')}:/etc/nginx/templates:ro`,
      ],
      images.services,
      [
        'sh',
        '-c',
        `envsubst '${variables}' < /etc/nginx/templates/nginx.conf.template > "$NGINX_ENVSUBST_OUTPUT_DIR/nginx.conf" && exec "$@"`,
        'entrypoint',
        ...pods.nginx.args,
      ],
    );

    // page-stats start, embedded, as `docker run page-stats` with a volume for /data
    mkdirSync(join(dir, 'data'));
    chownSync(join(dir, 'data'), NODE_UID, NODE_UID);
    containers.start = await run.start(
      'start',
      [
        '-v',
        `${join(dir, 'data')}:/data`,
        '-e',
        `PORT=${ports.start}`,
        '-e',
        'HOST=127.0.0.1',
        '-e',
        `ADMIN_TOKEN=${ADMIN_TOKEN}`,
        '-e',
        `ADMIN_PASSWORD=${ADMIN_PASSWORD}`,
      ],
      images.app,
    );

    const healthy = async (name: string, url: string, timeoutMs = 60_000) => {
      try {
        await until(`${name} ${url}`, timeoutMs, httpOk(url));
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${await containers[name]!.logs()}`);
      }
    };
    await Promise.all([
      healthy('ingest', `http://127.0.0.1:${ports.ingest}/readyz`),
      healthy('processing', `http://127.0.0.1:${ports.processing}/readyz`),
      healthy('nginx', `${nginxUrl()}/nginx-health`),
      healthy('start', `http://127.0.0.1:${ports.start}/readyz`),
    ]);
  }, 40 * 60_000);

  afterAll(async () => {
    await run.removeAll().catch(() => {});
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('runs the image as its non-root user, read-only where the manifests say so', async () => {
    for (const name of ['ingest', 'processing', 'start']) {
      expect((await containers[name]!.exec(['id', '-u'])).output.trim(), name).toBe(String(NODE_UID));
    }
    // ingest: readOnlyRootFilesystem, /tmp an emptyDir
    const write = await containers.ingest!.exec(['sh', '-c', 'touch /app/x']);
    expect(write.code).not.toBe(0);
    expect(write.output).toMatch(/Read-only file system/);
    expect((await containers.ingest!.exec(['sh', '-c', 'touch /tmp/x'])).code).toBe(0);
    // start (no manifest): the image's own user owns only /data
    expect((await containers.start!.exec(['sh', '-c', 'touch /app/x'])).output).toMatch(/Permission denied/);
  });

  it('serves the dashboard and the tracker through nginx from the files the init command copied', async () => {
    const tracker = await fetch(`${nginxUrl()}/tracker.js`);
    expect(tracker.status).toBe(200);
    expect(await tracker.text()).toMatch(/sendBeacon/);
    expect((await fetch(`${nginxUrl()}/`)).headers.get('content-type')).toMatch(/text\/html/);
  });

  it("counts page views sent through nginx exactly, the original design's /api/page-view included", async () => {
    const run = `smoke-${Date.now().toString(36)}`;
    const sent = new Map<string, number>();
    const count = (region: string, pageName: string, n = 1) => sent.set(`${region} ${pageName}`, (sent.get(`${region} ${pageName}`) ?? 0) + n);
    for (let i = 0; i < 6; i++) {
      const batch = Array.from({ length: 5 }, (_, j) => ({ pageName: `/${run}/${(i + j) % 3}`, region: j % 2 === 0 ? 'DE' : 'FR' }));
      const res = await fetch(`${nginxUrl()}/page-view`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': BROWSER_UA },
        body: JSON.stringify(batch),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      for (const e of batch) count(e.region, e.pageName);
    }
    // the original tracker: {pageName, region, timestamp} to /api/page-view, page names as they are
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${nginxUrl()}/api/page-view`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': BROWSER_UA },
        body: JSON.stringify({ pageName: `${run}HomePage`, region: 'US', timestamp: Date.now() - 1_000 }),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      count('US', `${run}HomePage`);
    }
    const total = [...sent.values()].reduce((a, b) => a + b, 0);

    const range = `startTime=${today(-1)}&endTime=${today(1)}`;
    const counted = await until('every page view counted', 120_000, async () => {
      await consolidate();
      const res = await fetch(`${nginxUrl()}/aggregated-data/region-daily?${range}`, { headers: auth });
      const rows = ((await res.json()) as { rows: Array<{ region: string; pageName: string; views: number }> }).rows.filter((r) => r.pageName.includes(run));
      return rows.reduce((n, r) => n + r.views, 0) >= total ? rows : undefined;
    });
    const byKey = new Map<string, number>();
    for (const r of counted) byKey.set(`${r.region} ${r.pageName}`, (byKey.get(`${r.region} ${r.pageName}`) ?? 0) + r.views);
    expect(byKey).toEqual(sent);
    const summary = await fetch(`${nginxUrl()}/aggregated-data/summary?${range}`, { headers: auth });
    expect(((await summary.json()) as { views: number }).views).toBe(total);
  }, 240_000);

  it('page-stats start (embedded) takes and counts a page view', async () => {
    const url = `http://127.0.0.1:${ports.start}`;
    const res = await fetch(`${url}/page-view`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
      body: JSON.stringify({ pageName: '/embedded', region: 'SE' }),
    });
    expect(res.status).toBe(202);
    await until('the embedded page view counted', 60_000, async () => {
      expect((await fetch(`${url}/admin/consolidate`, { method: 'POST', headers: auth })).status).toBe(200);
      const summary = (await (await fetch(`${url}/aggregated-data/summary?startTime=${today(-1)}&endTime=${today(1)}`, { headers: auth })).json()) as {
        views: number;
      };
      return summary.views === 1 ? true : undefined;
    });
  });

  it('stops every container cleanly on SIGTERM', async () => {
    // the app first (PostgreSQL's smart shutdown waits for its clients), the services after
    for (const name of ['nginx', 'ingest', 'processing', 'start', 'kafka', 'influx', 'postgres']) {
      const code = await containers[name]!.stop(30);
      const logs = await containers[name]!.logs();
      expect(code, `${name} exit code\n${logs.slice(-3000)}`).toBe(0);
      if (['ingest', 'processing', 'start'].includes(name)) {
        expect(logs, name).toMatch(/"msg":"shutdown_started".*"reason":"SIGTERM"|"reason":"SIGTERM".*"msg":"shutdown_started"/);
        expect(logs, name).toMatch(/"msg":"shutdown_done"/);
        expect(logs, name).not.toMatch(/shutdown_deadline_exceeded|shutdown_step_failed/);
      }
      if (name === 'nginx') expect(logs).not.toMatch(/\[(emerg|alert|crit)\]/);
      if (name === 'influx') expect(logs).toMatch(/Server shutdown completed/);
      if (name === 'postgres') expect(logs).toMatch(/database system is shut down/);
    }
  }, 600_000);
});
