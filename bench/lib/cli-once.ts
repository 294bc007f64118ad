import { spawn } from 'node:child_process';
import { cliEntry, ROOT } from './processes.js';
import type { Services } from './services.js';
import { now } from './stats.js';

export interface OneShot {
  /** wall-clock time of the whole process: node and tsx start-up, the command, the exit */
  ms: number;
  stdout: string;
  stderr: string;
}

/**
 * A one-shot `page-stats` command (`migrate`, `consolidate …`) as its own process, configured by
 * environment variables as a Kubernetes Job or CronJob runs it; rejects on a non-zero exit.
 */
export async function runCliOnce(args: string[], env: Record<string, string>, timeoutMs = 30 * 60_000): Promise<OneShot> {
  const started = now();
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry(), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const ms = now() - started;
  if (code !== 0) throw new Error(`page-stats ${args.join(' ')} exited with ${code ?? 'a signal'} after ${Math.round(ms)} ms:\n${stderr}${stdout}`);
  return { ms, stdout, stderr };
}

/** The JSON line `page-stats consolidate` prints: what it did and its own duration. */
export function consolidateResult(run: OneShot): Record<string, unknown> & { durationMs: number; mode: string } {
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown> & { durationMs: number; mode: string };
}

/**
 * A PostgreSQL database of its own with the rollup tables, as `page-stats migrate` makes them:
 * processing records what it stored there, so it needs them before it starts.
 */
export async function migratedDatabase(services: Services, label: string): Promise<string> {
  const url = await services.postgres(label);
  await runCliOnce(['migrate'], { DATABASE_URL: url });
  return url;
}
