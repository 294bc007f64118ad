import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/runtime/config.js';
import { appEnvNames, CLI_COMMANDS } from './app-contract.js';

// docker-compose.yml, the Dockerfile and .dockerignore, checked without a container engine.

type Obj = Record<string, any>;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, with the values an operator would set. */
function interpolate(value: string, operator: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::?([-?])([^}]*))?\}/g, (_, name: string, kind?: string, arg?: string) => {
    if (operator[name] !== undefined) return operator[name]!;
    if (kind === '-') return arg ?? '';
    throw new Error(`docker-compose.yml needs ${name}${kind === '?' ? `: ${arg}` : ''}`);
  });
}

function environment(service: Obj): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e: string) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Obj;
  const services = compose.services as Record<string, Obj>;
  const isApp = (s: Obj) => s.build !== undefined || /(^|\/)page-stats(:|$)/.test(String(s.image ?? ''));
  const operator = { ADMIN_TOKEN: 'compose-admin-token-0123456789', ADMIN_PASSWORD: 'compose password' };

  it('runs the whole pipeline: Kafka in KRaft mode, InfluxDB, PostgreSQL, every role and nginx', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['kafka', 'influxdb', 'postgres', 'migrate', 'ingest', 'processing', 'consolidator', 'nginx']),
    );
    expect(services.kafka!.image).toMatch(/^apache\/kafka:4\./);
    expect(environment(services.kafka!).KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(JSON.stringify(compose)).not.toMatch(/zookeeper/i);
    expect(services.influxdb!.image).toBe('influxdb:1.8');
    expect(services.postgres!.image).toBe('postgres:16');
  });

  it('runs every app service from the one page-stats image with a CLI command', () => {
    const app = Object.entries(services).filter(([, s]) => isApp(s));
    expect(new Set(app.map(([, s]) => s.image)).size).toBe(1);
    const roles: Record<string, string> = {};
    for (const [name, s] of app) {
      if (s.entrypoint !== undefined) {
        const script = (s.entrypoint as string[]).join(' ');
        if (name === 'ui-files') {
          expect(script).toMatch(/cp -R dist\/dashboard dist\/tracker \/srv\/ui\/ && cp ui\/nginx\.conf \/srv\/templates\/nginx\.conf\.template/);
          continue;
        }
        // the consolidator loop: one run every few minutes, a failed run does not end the loop
        expect(script).toMatch(/^sh -c while true; do node dist\/runtime\/cli\.js consolidate; sleep \d+; done$/);
        roles[name] = 'consolidate';
        continue;
      }
      const [command, ...rest] = s.command as string[];
      expect(CLI_COMMANDS).toContain(command);
      expect(rest).toEqual([]);
      roles[name] = command!;
    }
    expect(roles).toEqual({ migrate: 'migrate', ingest: 'ingest', processing: 'processing', consolidator: 'consolidate' });
    expect(services.ingest!.depends_on.migrate.condition).toBe('service_completed_successfully');
  });

  it('sets only variables the app reads, with values it accepts', () => {
    const allowed = appEnvNames();
    for (const [name, s] of Object.entries(services).filter(([, x]) => isApp(x))) {
      const env = environment(s);
      expect(
        Object.keys(env).filter((k) => !allowed.has(k)),
        `${name} sets variables the app does not read`,
      ).toEqual([]);
      if (Object.keys(env).length === 0) continue;
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, operator)]));
      expect(() => loadConfig(resolved), name).not.toThrow();
    }
    // the required secrets stop `docker compose up` with a message when unset
    expect(() => interpolate(environment(services.ingest!).ADMIN_TOKEN!, {})).toThrow(/ADMIN_TOKEN/);
  });

  it('checks PostgreSQL over TCP, and migrates once PostgreSQL and Kafka are up', () => {
    // during the image's first-start initialisation only the Unix socket answers
    expect((services.postgres!.healthcheck.test as string[]).join(' ')).toMatch(/pg_isready -h 127\.0\.0\.1 /);
    expect(services.migrate!.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' }, kafka: { condition: 'service_healthy' } });
    for (const name of ['ingest', 'processing']) expect(services[name]!.depends_on.migrate.condition, name).toBe('service_completed_successfully');
  });

  it('creates the topic with one replica on its one broker, and logs into InfluxDB as the admin it creates', () => {
    const env = Object.fromEntries(Object.entries(environment(services.migrate!)).map(([k, v]) => [k, interpolate(v, operator)]));
    expect(env.KAFKA_REPLICATION_FACTOR).toBe('1');
    const influx = Object.fromEntries(Object.entries(environment(services.influxdb!)).map(([k, v]) => [k, interpolate(v, operator)]));
    expect(influx.INFLUXDB_HTTP_AUTH_ENABLED).toBe('true');
    for (const name of ['ingest', 'processing', 'consolidator']) {
      const app = Object.fromEntries(Object.entries(environment(services[name]!)).map(([k, v]) => [k, interpolate(v, operator)]));
      expect([app.INFLUX_USERNAME, app.INFLUX_PASSWORD], name).toEqual([influx.INFLUXDB_ADMIN_USER, influx.INFLUXDB_ADMIN_PASSWORD]);
    }
  });

  it('wires the app to the stores and nginx to ingest by service names', () => {
    const env = Object.fromEntries(Object.entries(environment(services.ingest!)).map(([k, v]) => [k, interpolate(v, operator)]));
    expect(env.KAFKA_BROKERS).toBe('kafka:9092');
    expect(environment(services.kafka!).KAFKA_ADVERTISED_LISTENERS).toBe('PLAINTEXT://kafka:9092');
    expect(new URL(env.INFLUX_URL!).host).toBe('influxdb:8086');
    const database = new URL(env.DATABASE_URL!);
    const pg = Object.fromEntries(Object.entries(environment(services.postgres!)).map(([k, v]) => [k, interpolate(v, operator)]));
    expect([database.host, database.username, database.password, database.pathname]).toEqual([
      'postgres:5432',
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
      `/${pg.POSTGRES_DB}`,
    ]);
    // ingest is reached only through nginx (no published port), so it trusts exactly one hop
    expect(services.ingest!.ports).toBeUndefined();
    expect(env.TRUST_PROXY).toBe('1');

    const nginx = services.nginx!;
    const nginxEnv = environment(nginx);
    const template = readFileSync(join(ROOT, 'ui', 'nginx.conf'), 'utf8');
    for (const [, name] of template.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)) expect(nginxEnv, `nginx needs ${name}`).toHaveProperty(name!);
    expect(nginxEnv.APP_UPSTREAM).toBe('ingest:8080');
    const out = nginxEnv.NGINX_ENVSUBST_OUTPUT_DIR;
    expect(nginx.command).toEqual(['nginx', '-p', `${out}/`, '-c', `${out}/nginx.conf`, '-e', 'stderr', '-g', 'daemon off;']);
    expect(nginx.user).not.toMatch(/^(0|root)(:|$)/);
    const uiVolumes = (services['ui-files']!.volumes as string[]).map((v) => v.split(':'));
    const nginxVolumes = (nginx.volumes as string[]).map((v) => v.split(':'));
    expect(nginxVolumes).toContainEqual([uiVolumes.find(([, to]) => to === '/srv/ui')![0], nginxEnv.UI_ROOT, 'ro']);
    expect(nginxVolumes).toContainEqual([uiVolumes.find(([, to]) => to === '/srv/templates')![0], '/etc/nginx/templates', 'ro']);
    expect(nginx.depends_on['ui-files'].condition).toBe('service_completed_successfully');
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  // instructions, with line continuations joined and comments dropped
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [, op, rest] = /^(\S+)\s+(.*)$/.exec(l)!;
      return { op: op!.toUpperCase(), args: rest! };
    });
  const args = Object.fromEntries(instructions.filter((i) => i.op === 'ARG' && i.args.includes('=')).map((i) => i.args.split('=') as [string, string]));
  const stages: Array<{ from: string; name?: string; body: typeof instructions }> = [];
  for (const i of instructions) {
    if (i.op === 'FROM') {
      const [image, , name] = i.args.split(/\s+/);
      stages.push({ from: image!.replace(/\$\{?(\w+)\}?/g, (_, n: string) => args[n] ?? ''), name, body: [] });
    } else stages.at(-1)?.body.push(i);
  }
  const runtime = stages.at(-1)!;
  const all = (stage: (typeof stages)[number], op: string) => stage.body.filter((i) => i.op === op).map((i) => i.args);

  it('builds in one stage and runs from a slim Node 24 LTS stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toBe('node:24-bookworm-slim');
    const build = stages.find((s) => s.name === 'build')!;
    expect(all(build, 'RUN').join('\n')).toMatch(/npm ci\b/);
    expect(all(build, 'RUN').join('\n')).toMatch(/npm run build/);
    expect(all(runtime, 'RUN').join('\n')).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(all(runtime, 'COPY')).toContain('--from=build /app/dist ./dist');
    // what the nginx init container copies out of the image
    expect(all(runtime, 'COPY')).toContain('ui/nginx.conf ./ui/nginx.conf');
  });

  it('builds where no registry is reachable: no syntax line, the base a build argument, npm settings as secrets', () => {
    // a `# syntax=` line makes BuildKit pull its frontend image
    expect(text).not.toMatch(/^#\s*syntax\s*=/im);
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile's own variable, expected literally
    expect(text.match(/^FROM \S+/gm)).toEqual(['FROM ${NODE_IMAGE}', 'FROM ${NODE_IMAGE}']);
    const installs = stages.flatMap((s) => all(s, 'RUN')).filter((r) => /npm ci/.test(r));
    expect(installs).toHaveLength(2);
    for (const run of installs) expect(run).toMatch(/--mount=type=secret,id=npmrc,target=\/root\/\.npmrc --mount=type=secret,id=npm_ca /);
    // never a layer: no npmrc or CA file is copied into the image
    expect(
      instructions
        .filter((i) => i.op === 'COPY' || i.op === 'ADD')
        .map((i) => i.args)
        .join('\n'),
    ).not.toMatch(/npmrc|\.pem|\.crt/);
  });

  it('runs as a non-root user', () => {
    const users = all(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    // nothing after the last USER runs as root again, and the entrypoint comes after it
    const lastUser = runtime.body.map((i) => i.op).lastIndexOf('USER');
    expect(runtime.body.findIndex((i) => i.op === 'ENTRYPOINT')).toBeGreaterThan(lastUser);
  });

  it('is one image for every role: ENTRYPOINT the CLI, CMD start', () => {
    expect(JSON.parse(all(runtime, 'ENTRYPOINT').at(-1)!)).toEqual(['node', 'dist/runtime/cli.js']);
    expect(JSON.parse(all(runtime, 'CMD').at(-1)!)).toEqual(['start']);
    expect(all(runtime, 'HEALTHCHECK').at(-1)).toMatch(/\/healthz/);
  });

  it('sends the build only what it copies (.dockerignore)', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const heavy of ['node_modules', 'dist', '.git']) expect(ignored).toContain(heavy);
    const copied = stages
      .flatMap((s) => all(s, 'COPY'))
      .filter((c) => !c.startsWith('--from'))
      .flatMap((c) => c.split(/\s+/).slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'ui']));
    for (const path of copied) expect(ignored, `${path} is copied, so it must not be ignored`).not.toContain(path.replace(/^\.\//, ''));
  });
});
