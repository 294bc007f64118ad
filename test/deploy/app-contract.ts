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
