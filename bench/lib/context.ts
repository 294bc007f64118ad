import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions, Stage } from './options.js';
import { formatProfile, summariseProfile } from './profile.js';
import type { Figure } from './report.js';
import type { Services } from './services.js';

/** What every stage gets: the options, the shared services, and where its results go. */
export class BenchContext {
  readonly figures: Figure[] = [];
  /** lines printed after the table: per-run numbers, checks, profiles */
  readonly details: string[] = [];
  /** how cost grows: per stage, one cell per event volume */
  readonly scaling: { volumes: number[]; rows: Array<{ stage: string; cells: string[] }> } = { volumes: [], rows: [] };
  /** figures other stages reuse (the bare node:http rate) */
  readonly shared = new Map<string, number>();
  private readonly profileDirs = new Map<Stage, string>();

  constructor(
    readonly options: BenchOptions,
    readonly services: Services,
  ) {}

  add(figure: Figure): void {
    this.figures.push(figure);
  }

  detail(line: string): void {
    this.details.push(line);
    process.stderr.write(`  ${line}\n`);
  }

  /** Node flags for the server process of `stage`: `--cpu-prof` when that stage is profiled. */
  nodeArgs(stage: Stage): string[] {
    if (this.options.profile !== stage) return [];
    const dir = mkdtempSync(join(tmpdir(), `page-stats-profile-${stage}-`));
    this.profileDirs.set(stage, dir);
    return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  }

  /** After the profiled process exited: summarises its profile into the details. */
  reportProfile(stage: Stage): void {
    const dir = this.profileDirs.get(stage);
    if (dir === undefined) return;
    const text = formatProfile(`CPU profile of the ${stage} server`, summariseProfile(dir, 25));
    for (const line of text.split('\n')) this.detail(line);
  }
}
