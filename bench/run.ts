import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { BenchContext } from './lib/context.js';
import { parseOptions, type Stage } from './lib/options.js';
import { useSourceTree } from './lib/processes.js';
import { machine, machineLine, met, ratioOf, scalingTable, table } from './lib/report.js';
import { Services } from './lib/services.js';
import { log, sleep } from './lib/stats.js';
import { benchConsolidation } from './stages/consolidation.js';
import { benchDashboard } from './stages/dashboard.js';
import { benchEmbedded } from './stages/embedded.js';
import { benchIngest } from './stages/ingest.js';
import { benchLarge } from './stages/large.js';
import { benchProcessing } from './stages/processing.js';
import { benchCardinality } from './stages/cardinality.js';
import { benchIdentity } from './stages/identity.js';
import { benchScaling } from './stages/scaling.js';

const RUNNERS: Record<Stage, (ctx: BenchContext) => Promise<void>> = {
  ingest: benchIngest,
  processing: benchProcessing,
  consolidation: benchConsolidation,
  dashboard: benchDashboard,
  embedded: benchEmbedded,
  large: benchLarge,
  scaling: benchScaling,
  cardinality: benchCardinality,
  identity: benchIdentity,
};

/**
 * `npm run bench`: starts what each stage needs with the tests' tooling, loads the stage, runs its
 * baseline in the same run, and prints one table (Markdown) with the ratio and the goal.
 */
async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) return 0;
  if (options.src !== undefined) useSourceTree(resolve(options.src));
  await waitForQuiet(options.waitQuietSeconds);
  const started = Date.now();
  const before = machine();
  log(`machine: ${machineLine(before)}`);
  const services = new Services();
  const ctx = new BenchContext(options, services);
  const failures: string[] = [];
  try {
    for (const stage of Object.keys(RUNNERS) as Stage[]) {
      if (!options.stages.has(stage)) continue;
      log(`── ${stage}`);
      ctx.detail(`${stage}: started at load average ${loadavg()[0]!.toFixed(2)}`);
      try {
        await RUNNERS[stage](ctx);
      } catch (err) {
        failures.push(`${stage}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        log(`${stage} failed: ${String(err)}`);
      }
    }
  } finally {
    await services.stop();
  }
  const after = machine();
  const elapsed = (Date.now() - started) / 1000;
  const out = [
    '',
    `page-stats benchmarks${options.quick ? ' (--quick)' : ''} — ${new Date(started).toISOString()}, ${elapsed.toFixed(0)} s`,
    `machine: ${machineLine(before)} at start, ${after.loadAverage.join(' / ')} at the end`,
    '',
    table(ctx.figures),
    '',
    ...(ctx.scaling.rows.length > 0
      ? ['how cost grows (times; events per second in brackets):', '', scalingTable(ctx.scaling.volumes, ctx.scaling.rows), '']
      : []),
    'details:',
    ...ctx.details.map((d) => `  ${d}`),
    ...(failures.length > 0 ? ['', 'FAILED:', ...failures.map((f) => `  ${f}`)] : []),
    '',
  ];
  process.stdout.write(out.join('\n'));
  if (options.json !== undefined) {
    writeFileSync(
      options.json,
      `${JSON.stringify(
        {
          started: new Date(started).toISOString(),
          seconds: elapsed,
          options: { ...options, stages: [...options.stages] },
          machine: { ...before, loadAverageAtEnd: after.loadAverage },
          figures: ctx.figures.map((f) => ({ ...f, ratio: ratioOf(f), met: met(f) })),
          scaling: ctx.scaling,
          details: ctx.details,
          failures,
        },
        null,
        2,
      )}\n`,
    );
  }
  return failures.length > 0 ? 1 : 0;
}

/** On a machine shared with test runs, figures are only comparable when it is quiet. */
async function waitForQuiet(maxSeconds: number): Promise<void> {
  if (maxSeconds <= 0) return;
  const threshold = availableParallelism() / 2;
  const deadline = Date.now() + maxSeconds * 1000;
  while (loadavg()[0]! >= threshold && Date.now() < deadline) {
    log(`waiting for a quiet machine: load average ${loadavg()[0]!.toFixed(2)} ≥ ${threshold}`);
    await sleep(15_000);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
