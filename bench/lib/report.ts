import { cpus, loadavg, totalmem, availableParallelism } from 'node:os';

/**
 * A goal is either a ratio to the baseline measured in the same run, or an absolute bound.
 * `ratio` is always ours ÷ baseline: higher is better for rates, lower is better for times.
 */
export type Goal =
  | { kind: 'ratio-at-least'; value: number }
  | { kind: 'ratio-at-most'; value: number }
  | { kind: 'at-least'; value: number }
  | { kind: 'at-most'; value: number }
  | { kind: 'info' };

export interface Figure {
  stage: string;
  figure: string;
  unit: string;
  ours: number;
  baseline: number | undefined;
  baselineLabel: string;
  goal: Goal;
  notes?: string;
}

export const ratioOf = (f: Figure): number | undefined => (f.baseline === undefined || f.baseline === 0 ? undefined : f.ours / f.baseline);

export function met(f: Figure): boolean | undefined {
  const r = ratioOf(f);
  switch (f.goal.kind) {
    case 'ratio-at-least':
      return r !== undefined && r >= f.goal.value;
    case 'ratio-at-most':
      return r !== undefined && r <= f.goal.value;
    case 'at-least':
      return f.ours >= f.goal.value;
    case 'at-most':
      return f.ours <= f.goal.value;
    case 'info':
      return undefined;
  }
}

function goalText(f: Figure): string {
  const g = f.goal;
  switch (g.kind) {
    case 'ratio-at-least':
      return `≥ ${g.value} × baseline`;
    case 'ratio-at-most':
      return `≤ ${g.value} × baseline`;
    case 'at-least':
      return `≥ ${num(g.value)} ${f.unit}`;
    case 'at-most':
      return `≤ ${num(g.value)} ${f.unit}`;
    case 'info':
      return '—';
  }
}

export function num(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** The results table, as Markdown (readable in a terminal, pasteable into BENCHMARKS.md). */
export function table(figures: readonly Figure[]): string {
  const rows = figures.map((f) => {
    const r = ratioOf(f);
    const m = met(f);
    return [
      f.stage,
      f.figure,
      `${num(f.ours)} ${f.unit}`,
      f.baseline === undefined ? '—' : `${num(f.baseline)} ${f.unit} (${f.baselineLabel})`,
      r === undefined ? '—' : `${r.toFixed(2)}×`,
      goalText(f),
      m === undefined ? '' : m ? 'met' : '**not met**',
    ];
  });
  const head = ['stage', 'figure', 'ours', 'baseline (same run)', 'ratio', 'goal', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverage: number[];
}

export function machine(): Machine {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB memory, Node ${m.node}, ${m.platform}; load average ${m.loadAverage.join(' / ')}`;
}

/** The scaling table: a row per stage, a column per event volume. */
export function scalingTable(volumes: readonly number[], rows: ReadonlyArray<{ stage: string; cells: string[] }>): string {
  const head = ['stage', ...volumes.map((v, i) => `${[1, 10, 100][i] ?? '?'}× (${num(v)} events)`)];
  const body = rows.map((r) => [r.stage, ...r.cells]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
