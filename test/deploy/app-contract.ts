import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/process.js';

/** The commands of the `page-stats` CLI that deployments may run. */
export const CLI_COMMANDS = ['start', 'ingest', 'processing', 'consolidate', 'migrate'];

/** Every variable the app reads: the keys of the zod EnvSchema in src/runtime/config.ts. */
export function appEnvNames(): Set<string> {
  const source = readFileSync(join(ROOT, 'src', 'runtime', 'config.ts'), 'utf8');
  const start = source.indexOf('const EnvSchema = z.object({');
  const end = source.indexOf('\n});', start);
  if (start < 0 || end < 0) throw new Error('EnvSchema = z.object({ … }) not found in src/runtime/config.ts');
  return new Set([...source.slice(start, end).matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!));
}

/**
 * The TRUST_PROXY that docker-compose.yml and the Kubernetes base ship for ingest (they must
 * agree): the nginx end-to-end test runs the app with exactly this value.
 */
export function shippedTrustProxy(): string {
  const k8s = /^TRUST_PROXY=(.*)$/m.exec(readFileSync(join(ROOT, 'deploy', 'k8s', 'base', 'page-stats.env'), 'utf8'))?.[1]?.trim();
  const compose = /^\s+TRUST_PROXY:\s*"?([^"\n]*)"?\s*$/m.exec(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'))?.[1]?.trim();
  if (k8s === undefined || compose === undefined || k8s !== compose) {
    throw new Error(`TRUST_PROXY differs between deploy/k8s/base/page-stats.env (${k8s}) and docker-compose.yml (${compose})`);
  }
  return k8s;
}
