import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from './free-port.js';

export interface InfluxDB {
  /** Base URL of the v1 HTTP API, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  /** Temp dir holding the config and the meta, data and wal dirs. */
  dir: string;
  /** With `auth`: the admin user every request must authenticate as (HTTP basic auth or u/p). */
  auth: InfluxAuth | undefined;
  readonly running: boolean;
  /** Ends influxd (SIGKILL by default, SIGTERM for a clean shutdown), keeping its data. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts influxd again after kill(): same port, same data. */
  start(): Promise<void>;
  /** Clean shutdown, then start(). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the port stays open but nothing answers, like a hung server. */
  pause(): void;
  resume(): void;
  /** Shuts influxd down (SIGTERM) and removes the temp dir. */
  stop(): Promise<void>;
}

export interface InfluxAuth {
  username: string;
  password: string;
}

export interface InfluxOptions {
  /** `auth-enabled = true`, with this user created as admin (WITH ALL PRIVILEGES) */
  auth?: InfluxAuth;
}

const STARTUP_TIMEOUT_MS = 60_000;
const SHUTDOWN_TIMEOUT_MS = 15_000;

const liveInstances = new Set<{ child: ChildProcess | undefined; dir: string }>();
let exitHookInstalled = false;

function cleanUpOnExit(entry: { child: ChildProcess | undefined; dir: string }): void {
  liveInstances.add(entry);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const { child, dir } of liveInstances) {
        child?.kill('SIGCONT');
        child?.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

let reportingLine: Promise<string> | undefined;

/**
 * Debian's influxd reads `reporting-enabled = false`, upstream's `reporting-disabled = true`;
 * whichever key `influxd config` prints is the one this build understands.
 */
function reportingOff(): Promise<string> {
  reportingLine ??= promisify(execFile)('influxd', ['config', '-config', '/dev/null'], {
    env: cleanEnv(),
  }).then(({ stdout }) => (/^reporting-enabled\s*=/m.test(stdout) ? 'reporting-enabled = false' : 'reporting-disabled = true'));
  return reportingLine;
}

/** influxd lets INFLUXDB_* variables override the config file; keep the test config authoritative. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INFLUXDB_')));
}

function configFile(dir: string, httpPort: number, rpcPort: number, reporting: string, auth: boolean): string {
  const q = (s: string): string => JSON.stringify(s);
  return `${reporting}
# The RPC service (backup/restore) binds 127.0.0.1:8088 by default: move it so that several
# instances, or a system influxd, can run side by side.
bind-address = ${q(`127.0.0.1:${rpcPort}`)}

[meta]
  dir = ${q(join(dir, 'meta'))}
  logging-enabled = false

[data]
  dir = ${q(join(dir, 'data'))}
  wal-dir = ${q(join(dir, 'wal'))}
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = ${q(`127.0.0.1:${httpPort}`)}
  auth-enabled = ${auth}
  log-enabled = false
  pprof-enabled = false
  unix-socket-enabled = false

[logging]
  level = "error"
  suppress-logo = true

[continuous_queries]
  log-enabled = false
`;
}

function ping(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/ping', method: 'GET', agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

// pdeathsig: influxd dies with the process (or worker thread) that spawned it, even when
// that one is SIGKILLed and its exit hooks never run.
const launcher = existsSync('/usr/bin/setpriv')
  ? (args: string[]) => ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', 'influxd', ...args]] as const
  : (args: string[]) => ['influxd', args] as const;

/**
 * With auth enabled, InfluxDB 1.x lets the first user be created without credentials, and only
 * an admin: that is how a fresh server gets its admin.
 */
function createAdmin(port: number, auth: InfluxAuth): Promise<void> {
  const q = `CREATE USER "${auth.username.replace(/["\\]/g, '\\$&')}" WITH PASSWORD '${auth.password.replace(/['\\]/g, '\\$&')}' WITH ALL PRIVILEGES`;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/query?${new URLSearchParams({ q })}`, method: 'POST', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 && !body.includes('"error"') ? resolve() : reject(new Error(`CREATE USER: ${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function startInfluxDB(options: InfluxOptions = {}): Promise<InfluxDB> {
  const reporting = await reportingOff();
  let lastError: unknown;
  // A port found free can be taken before influxd binds it: retry with new ports then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'page-stats-influxdb-'));
    const [httpPort, rpcPort] = (await freePorts(2)) as [number, number];
    const instance = createInstance(dir, httpPort, rpcPort, reporting, options.auth);
    try {
      await instance.start();
      if (options.auth !== undefined) await createAdmin(httpPort, options.auth);
      return instance;
    } catch (error) {
      lastError = error;
      await instance.stop();
      if (!/address already in use/i.test(String(error))) break;
    }
  }
  throw lastError;
}

function createInstance(dir: string, port: number, rpcPort: number, reporting: string, auth: InfluxAuth | undefined): InfluxDB {
  const configPath = join(dir, 'influxdb.conf');
  const entry: { child: ChildProcess | undefined; dir: string } = { child: undefined, dir };
  cleanUpOnExit(entry);
  let configWritten = false;

  async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
    if (!isRunning(child)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited.finally(() => clearTimeout(timer));
  }

  const instance: InfluxDB = {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    auth,
    get running() {
      return isRunning(entry.child);
    },

    async start() {
      if (isRunning(entry.child)) return;
      if (!configWritten) {
        await writeFile(configPath, configFile(dir, port, rpcPort, reporting, auth !== undefined));
        configWritten = true;
      }
      const [command, args] = launcher(['-config', configPath]);
      const child = spawn(command, args, { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
      entry.child = child;
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr = (stderr + d).slice(-4000);
      });
      let spawnError: Error | undefined;
      child.once('error', (error) => (spawnError = error));

      const deadline = Date.now() + STARTUP_TIMEOUT_MS;
      for (;;) {
        if (spawnError) throw spawnError;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`influxd exited (${child.signalCode ?? child.exitCode}): ${stderr.trim()}`);
        }
        if ((await ping(port)) === 204) return;
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`influxd did not answer /ping within ${STARTUP_TIMEOUT_MS} ms: ${stderr.trim()}`);
        }
        await sleep(100);
      }
    },

    async kill(signal = 'SIGKILL') {
      const child = entry.child;
      if (!isRunning(child)) return;
      child.kill(signal);
      child.kill('SIGCONT'); // a paused process would not act on SIGTERM
      await waitForExit(child, SHUTDOWN_TIMEOUT_MS);
    },

    async restart() {
      await instance.kill('SIGTERM');
      await instance.start();
    },

    pause() {
      if (isRunning(entry.child)) entry.child.kill('SIGSTOP');
    },

    resume() {
      if (isRunning(entry.child)) entry.child.kill('SIGCONT');
    },

    async stop() {
      await instance.kill('SIGTERM');
      liveInstances.delete(entry);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return instance;
}
