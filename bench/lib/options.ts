import { parseArgs } from 'node:util';

export const STAGES = ['ingest', 'processing', 'consolidation', 'dashboard', 'embedded', 'large', 'scaling', 'cardinality', 'identity'] as const;
export type Stage = (typeof STAGES)[number];

export const LARGE_PARTS = ['latency', 'plans', 'render', 'memory', 'consolidation'] as const;
export type LargePart = (typeof LARGE_PARTS)[number];

export interface BenchOptions {
  quick: boolean;
  stages: Set<Stage>;
  /** seconds of load per measured HTTP run */
  durationSeconds: number;
  /** seconds of load before each measured run (JIT, connections, batching settle) */
  warmupSeconds: number;
  /** concurrent connections for the ingest and embedded load */
  connections: number;
  /** concurrent connections for the dashboard load (an admin dashboard, not the public) */
  dashboardConnections: number;
  /** baseline and ours are measured alternately this many times; the medians are compared */
  rounds: number;
  processingEvents: number;
  /** partitions of the processing topic: the Kafka mock keeps about 60,000 of our events per partition */
  processingPartitions: number;
  /** partitions of the ingest stage's topic */
  ingestPartitions: number;
  consolidationEvents: number;
  /** seconds of load per stats request in the large stage (each side) */
  statsSeconds: number;
  /** the large stage pages through at most this many pages (of 100,000 rows, then of 10,000) */
  largePages: number;
  /** the parts of the large stage to run (default all) */
  largeParts: Set<LargePart>;
  /** the scaling stage measures 1×, 10× and 100× this many events */
  scaleBase: number;
  /** events in the cardinality stage's day (150 regions × 5,000 pages, Zipf) */
  cardinalityEvents: number;
  /** stage whose server runs under `--cpu-prof`; its profile summary is printed */
  profile: Stage | undefined;
  json: string | undefined;
  /** wait up to this many seconds for a quiet machine (1-minute load average below half the CPUs) */
  waitQuietSeconds: number;
  /** src/ of another checkout whose `page-stats` processes are measured instead of this one's */
  src: string | undefined;
}

const USAGE = `Usage: npm run bench -- [options]

  --quick                  short runs, smaller data, no scaling stage (under 3 minutes)
  --only <stages>          comma-separated subset of: ${STAGES.join(', ')}
                           (default: all; with --quick all but scaling); --stage is the same
  --duration <s>           seconds of load per measured HTTP run (default 10, quick 4)
  --warmup <s>             seconds of load before each measured run (default 3, quick 1)
  --connections <n>        connections for ingest and embedded load (default 100)
  --dashboard-connections <n>  connections for the dashboard query load (default 4)
  --rounds <n>             alternate baseline/ours runs, compare medians (default 3, quick 1)
  --processing-events <n>  events consumed from Kafka into InfluxDB (default 500000, quick 200000)
  --ingest-partitions <n>  partitions of the ingest stage's topic (default 3, as KAFKA_PARTITIONS; the
                           Kubernetes manifests create 12)
  --processing-partitions <n>  partitions of the processing topic (default 12; the Kafka mock keeps
                           ~60,000 events per partition, so events ≤ 50,000 × partitions)
  --consolidation-events <n>  events in the consolidated day (default 10000000, quick 1000000)
  --stats-duration <s>     seconds of load per stats request in the large stage, each side
                           (default 5, quick 1)
  --large-pages <n>        pages the large stage reads through region-daily, at limit 100,000
                           and at limit 10,000 (default 30; 222 at 100,000 is the whole year)
  --large-parts <parts>    comma-separated subset of the large stage: ${LARGE_PARTS.join(', ')}
  --scale-base <n>         the scaling stage runs 1×, 10× and 100× this many events (default 100000)
  --cardinality-events <n> events in the cardinality stage's day of 150 regions × 5,000 pages
                           (default 10000000, quick 1000000)
  --profile <stage>        run that stage's server under node --cpu-prof and print where the time goes
  --wait-quiet <s>         first wait up to s seconds for the 1-minute load average to fall below half
                           the CPUs (a machine shared with test runs gives noisy figures)
  --json <file>            also write the results as JSON
  --src <dir>              run the page-stats processes from another checkout's src/ (before/after a
                           change: git worktree add /tmp/before <rev>; --src /tmp/before/src)
  -h, --help               this text`;

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name}: expected a whole number ≥ ${min}, got "${raw}"`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      stage: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'dashboard-connections': { type: 'string' },
      rounds: { type: 'string' },
      'processing-events': { type: 'string' },
      'processing-partitions': { type: 'string' },
      'ingest-partitions': { type: 'string' },
      'consolidation-events': { type: 'string' },
      'scale-base': { type: 'string' },
      'cardinality-events': { type: 'string' },
      'stats-duration': { type: 'string' },
      'large-pages': { type: 'string' },
      'large-parts': { type: 'string' },
      profile: { type: 'string' },
      json: { type: 'string' },
      src: { type: 'string' },
      'wait-quiet': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return undefined;
  }
  const quick = values.quick;
  const stageList = (text: string, flag: string): Stage[] =>
    text.split(',').map((s) => {
      const stage = s.trim() as Stage;
      if (!STAGES.includes(stage)) throw new Error(`--${flag}: unknown stage "${s}" (${STAGES.join(', ')})`);
      return stage;
    });
  const profile = values.profile === undefined ? undefined : stageList(values.profile, 'profile')[0];
  return {
    quick,
    stages: new Set(
      values.only === undefined && values.stage === undefined
        ? STAGES.filter((s) => !quick || s !== 'scaling')
        : stageList(values.only ?? values.stage ?? '', values.only === undefined ? 'stage' : 'only'),
    ),
    durationSeconds: positiveInt('duration', values.duration, quick ? 4 : 10),
    warmupSeconds: positiveInt('warmup', values.warmup, quick ? 1 : 3, 0),
    connections: positiveInt('connections', values.connections, 100),
    dashboardConnections: positiveInt('dashboard-connections', values['dashboard-connections'], 4),
    rounds: positiveInt('rounds', values.rounds, quick ? 1 : 3),
    processingEvents: positiveInt('processing-events', values['processing-events'], quick ? 200_000 : 500_000),
    processingPartitions: positiveInt('processing-partitions', values['processing-partitions'], 12),
    ingestPartitions: positiveInt('ingest-partitions', values['ingest-partitions'], 3),
    consolidationEvents: positiveInt('consolidation-events', values['consolidation-events'], quick ? 1_000_000 : 10_000_000),
    statsSeconds: positiveInt('stats-duration', values['stats-duration'], quick ? 1 : 5),
    largePages: positiveInt('large-pages', values['large-pages'], quick ? 3 : 30),
    largeParts: new Set(
      (values['large-parts'] ?? LARGE_PARTS.join(',')).split(',').map((s) => {
        const part = s.trim() as LargePart;
        if (!LARGE_PARTS.includes(part)) throw new Error(`--large-parts: unknown part "${s}" (${LARGE_PARTS.join(', ')})`);
        return part;
      }),
    ),
    scaleBase: positiveInt('scale-base', values['scale-base'], 100_000, 100),
    cardinalityEvents: positiveInt('cardinality-events', values['cardinality-events'], quick ? 1_000_000 : 10_000_000, 1_440),
    profile,
    json: values.json,
    src: values.src,
    waitQuietSeconds: positiveInt('wait-quiet', values['wait-quiet'], 0, 0),
  };
}
