import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './processes.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** share of samples per package or source folder (self time), largest first */
  byOwner: Array<{ owner: string; share: number }>;
  /** share of samples with the owner anywhere on the stack (what it costs, callees included) */
  onStack: Array<{ owner: string; share: number }>;
  /** share of self time per function, largest first */
  byFunction: Array<{ fn: string; share: number }>;
}

/** Where a frame's code lives: `fastify`, `kafkajs`, `src/adapters/kafka`, `node:internal`, `(gc)` … */
function owner(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  // fetch() is undici, bundled with Node: name it, it is not Node's own cost.
  if (url.startsWith('node:internal/deps/')) return `node:${url.split('/')[2]}`;
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  // Our sources by folder (also from another checkout, --src): src/adapters/kafka, …
  const src = path.lastIndexOf('/src/');
  const rel = src >= 0 ? path.slice(src + 1) : relative(ROOT, path);
  return rel.split('/').slice(0, 3).join('/');
}

/** Reads the newest `.cpuprofile` in `dir` and sums its samples by owner and by function. */
export function summariseProfile(dir: string, top = 15): ProfileSummary {
  // tsx's module loader runs in a worker thread with a profile of its own: the main thread's is the largest.
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(dir, a)).size - statSync(join(dir, b)).size)
    .pop();
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const owners = new Map<string, number>();
  const stacked = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total++;
    const o = owner(url, functionName);
    owners.set(o, (owners.get(o) ?? 0) + 1);
    const fn = `${functionName || '(anonymous)'} ${o}${url ? `:${lineNumber + 1}` : ''}`;
    fns.set(fn, (fns.get(fn) ?? 0) + 1);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.url !== '') seen.add(owner(frame.url, frame.functionName));
    }
    for (const s of seen) stacked.set(s, (stacked.get(s) ?? 0) + 1);
  }
  const ranked = (m: Map<string, number>): Array<[string, number]> =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, total === 0 ? 0 : v / total]);
  return {
    file: join(dir, file),
    totalMs: (profile.endTime - profile.startTime) / 1000,
    byOwner: ranked(owners).map(([owner, share]) => ({ owner, share })),
    onStack: ranked(stacked).map(([owner, share]) => ({ owner, share })),
    byFunction: ranked(fns).map(([fn, share]) => ({ fn, share })),
  };
}

export function formatProfile(title: string, s: ProfileSummary): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)} %`;
  return [
    `${title} — ${s.file} (busy samples; idle excluded)`,
    '  by package / folder, self time:',
    ...s.byOwner.map((o) => `    ${pct(o.share)}  ${o.owner}`),
    '  by package / folder, on the stack (callees included; hooks that call the next hook include it):',
    ...s.onStack.map((o) => `    ${pct(o.share)}  ${o.owner}`),
    '  by function (self time):',
    // A regular expression's "function name" is its whole source: isbot's runs to kilobytes.
    ...s.byFunction.map((f) => `    ${pct(f.share)}  ${f.fn.length > 100 ? `${f.fn.slice(0, 97)}…` : f.fn}`),
  ].join('\n');
}
