import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/process.js';

const exec = promisify(execFile);

/** Debian's docker.io client has BuildKit built in; a docker-ce client without buildx would not. */
export const DOCKER = process.env.DOCKER ?? (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');

export async function docker(args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const { stdout } = await exec(DOCKER, args, { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000 });
  return stdout;
}

/** Runs one of the project's scripts; the last line it prints is its answer (an image tag). */
async function script(path: string, args: string[] = [], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await exec('bash', [join(ROOT, path), ...args], {
      cwd: ROOT,
      env: { ...process.env, DOCKER, ...env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30 * 60_000,
    });
    return stdout.trim().split('\n').at(-1)!;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${path} failed: ${e.message}\n${(e.stderr ?? '').slice(-4000)}`);
  }
}

/**
 * A running daemon (started when needed), the project's image (deploy/docker/build-local.sh) and
 * the services' image, both reused while their inputs are unchanged.
 */
export async function prepareImages(): Promise<{ app: string; services: string }> {
  await script('test/containers/start-dockerd.sh');
  const debian = await script('deploy/docker/build-local.sh', ['debian']);
  const [app, services] = await Promise.all([
    script('deploy/docker/build-local.sh', ['app']),
    script('test/containers/build-services-image.sh', [], { DEBIAN_IMAGE: debian }),
  ]);
  return { app, services };
}

export interface Container {
  name: string;
  logs(): Promise<string>;
  /** SIGTERM (docker stop), SIGKILL after `graceSeconds`; resolves to the exit code */
  stop(graceSeconds?: number): Promise<number>;
  exitCode(): Promise<number | undefined>;
  exec(command: string[]): Promise<{ code: number; output: string }>;
}

/** Containers of one test run: labelled, so that cleanup finds every one of them. */
export class ContainerRun {
  readonly label: string;
  private readonly names: string[] = [];

  constructor(readonly prefix: string) {
    this.label = `page-stats.test=${prefix}`;
    // a run killed before its afterAll leaves nothing behind either
    process.once('exit', () => this.removeAllSync());
  }

  /** `docker run -d --network host` with the given options, image and command. */
  async start(role: string, options: string[], image: string, command: string[] = []): Promise<Container> {
    const name = `${this.prefix}-${role}`;
    await docker(['run', '-d', '--name', name, '--label', this.label, '--network', 'host', ...options, image, ...command]);
    this.names.push(name);
    return this.handle(name);
  }

  /** `docker run --rm` in the foreground: exit code and output. */
  async once(role: string, options: string[], image: string, command: string[] = [], timeoutMs = 120_000): Promise<{ code: number; output: string }> {
    const name = `${this.prefix}-${role}-${this.names.length}`;
    this.names.push(name);
    const result = spawnSync(DOCKER, ['run', '--rm', '--name', name, '--label', this.label, '--network', 'host', ...options, image, ...command], {
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: result.status ?? -1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
  }

  handle(name: string): Container {
    return {
      name,
      logs: async () => {
        const { stdout, stderr } = await exec(DOCKER, ['logs', name], { maxBuffer: 64 * 1024 * 1024 });
        return stdout + stderr;
      },
      stop: async (graceSeconds = 30) => {
        await docker(['stop', '-t', String(graceSeconds), name], { timeoutMs: (graceSeconds + 30) * 1_000 });
        return Number((await docker(['inspect', '-f', '{{.State.ExitCode}}', name])).trim());
      },
      exitCode: async () => {
        const [running, code] = (await docker(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', name])).trim().split(' ');
        return running === 'true' ? undefined : Number(code);
      },
      exec: async (command) => {
        const result = spawnSync(DOCKER, ['exec', name, ...command], { encoding: 'utf8', timeout: 60_000 });
        return { code: result.status ?? -1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
      },
    };
  }

  async removeAll(): Promise<void> {
    const ids = (await docker(['ps', '-aq', '--filter', `label=${this.label}`])).split('\n').filter(Boolean);
    if (ids.length > 0) await docker(['rm', '-f', ...ids]);
  }

  private removeAllSync(): void {
    const ids =
      spawnSync(DOCKER, ['ps', '-aq', '--filter', `label=${this.label}`], { encoding: 'utf8' })
        .stdout?.split('\n')
        .filter(Boolean) ?? [];
    if (ids.length > 0) spawnSync(DOCKER, ['rm', '-f', ...ids]);
  }
}
