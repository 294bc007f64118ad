import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/tooling/free-port.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let cliSource = join(ROOT, 'src', 'runtime', 'cli.ts');

/** Runs `page-stats` from another checkout's `src/` (`--src`), to compare before and after a change. */
export function useSourceTree(srcDir: string): void {
  cliSource = join(srcDir, 'runtime', 'cli.ts');
}

export interface Child {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM (graceful shutdown), SIGKILL after a deadline; resolves once it exited. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface SpawnOptions {
  env?: Record<string, string>;
  /** extra node flags, e.g. `--cpu-prof` */
  nodeArgs?: string[];
  /** path polled until it answers below 500 */
  health?: string;
}

/**
 * Runs a TypeScript entry point as its own OS process (through tsx, so the benchmark measures the
 * source as it is, with no build step), on a free port given as PORT.
 */
export async function spawnNode(entry: string, args: string[], options: SpawnOptions = {}): Promise<Child> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = once(child, 'exit');
  void exited.then(() => live.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const handle: Child = {
    child,
    url,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited.finally(() => clearTimeout(timer));
    },
  };
  await waitForHttp(url + (options.health ?? '/healthz'), handle);
  return handle;
}

/** The `page-stats` entry point the benchmark runs (this checkout's, or `--src`'s). */
export const cliEntry = (): string => cliSource;

/** `page-stats <command>` from src/, configured by environment variables like in production. */
export function spawnCli(command: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Child> {
  return spawnNode(cliSource, [command], { env, nodeArgs });
}

async function waitForHttp(url: string, proc: Child, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    const { exitCode } = proc.child;
    if (exitCode !== null) throw new Error(`process exited with ${exitCode}:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
