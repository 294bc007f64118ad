#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { composeApp, type Role } from './composition.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { seedDemo } from './demo.js';
import { runExport, runImport } from './import-export.js';
import { createLogger } from './logger.js';
import { runConsolidateOnce, runMigrate } from './one-shot.js';

const USAGE = `Usage: page-stats <command> [options]

Commands:
  start                      every role in one process (embedded stores unless configured)
  demo [--force]             fill DATA_DIR with a month of realistic page views, consolidate, then start
  ingest                     ingest-service: POST /page-view, the admin API and the dashboard
  processing                 processing-service: event log → event store
  consolidate [--from D --to D] [--recompute]
                             consolidator-service, one run; exits non-zero on failure. Without
                             options: folds in what processing recorded since the last run (and
                             recomputes the late-arrival window every RECOMPUTE_INTERVAL);
                             --from/--to: recomputes those days (YYYY-MM-DD in REPORT_TIMEZONE)
                             from the event store; --recompute: the late-arrival window, now
  import FILE… [--skip-bad]  import past page views: events (CSV timestamp,region,pageName or
                             NDJSON) or daily counts (CSV date,region,pageName,views; dates in
                             REPORT_TIMEZONE), gzip or not; the same file twice counts once. A bad
                             line refuses the file (nothing stored) unless --skip-bad. The imported
                             days are consolidated; a JSON report goes to stdout
  export --from D --to D [--out FILE]
                             the daily counts of those days in the import's daily-count format
  migrate                    create or upgrade the rollup tables
  help                       this text

Configuration comes from environment variables; see the README.`;

/** What each command runs, and the variables a separate role cannot do without. */
function rolesFor(command: string, config: Config): { roles: Set<Role>; missing: string[] } {
  switch (command) {
    case 'ingest':
      // The original design serves the dashboard's API from ingest-service; it needs the rollup database.
      return {
        roles: new Set<Role>(config.databaseUrl === undefined ? ['ingest'] : ['ingest', 'admin']),
        missing: config.kafka === undefined ? ['KAFKA_BROKERS'] : [],
      };
    case 'processing':
      return {
        roles: new Set<Role>(['processing']),
        // DATABASE_URL: processing records what it stored for the incremental consolidation
        missing: [
          ...(config.kafka === undefined ? ['KAFKA_BROKERS'] : []),
          ...(config.influx === undefined ? ['INFLUX_URL'] : []),
          ...(config.databaseUrl === undefined ? ['DATABASE_URL'] : []),
        ],
      };
    default:
      return { roles: new Set<Role>(['ingest', 'processing', 'consolidator', 'admin']), missing: [] };
  }
}

async function main(argv: string[]): Promise<number> {
  // Everything this process writes (the embedded database, credential hashes) is the owner's only.
  process.umask(0o077);
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      recompute: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      'skip-bad': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0] ?? 'help';
  if (command === 'help' || values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`page-stats: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, { command });
  switch (command) {
    case 'start':
    case 'ingest':
    case 'processing':
    case 'demo': {
      const { roles, missing } = rolesFor(command, config);
      if (missing.length > 0) {
        process.stderr.write(`page-stats ${command}: set ${missing.join(' and ')} (this role runs against the distributed stores)\n`);
        return 2;
      }
      if (command === 'demo') await seedDemo(config, logger, { force: values.force });
      const app = await composeApp(config, {
        roles,
        logger,
        schedule: command === 'start' || command === 'demo',
        onGeneratedCredentials: printCredentials,
      });
      app.lifecycle.handleSignals();
      if (roles.has('admin')) process.stdout.write(`page-stats dashboard: http://localhost:${new URL(app.url).port}/\n`);
      return -1; // keep running
    }
    case 'consolidate':
    case 'import':
      if (config.kafka !== undefined && config.databaseUrl !== undefined && config.influx === undefined) {
        // With Kafka, processing writes the events to InfluxDB: recomputing days from the empty
        // embedded event store here would replace their counts with nothing.
        process.stderr.write(
          `page-stats ${command}: set INFLUX_URL: with KAFKA_BROKERS and DATABASE_URL the events are in InfluxDB, and days recomputed without it would lose their counts\n`,
        );
        return 2;
      }
      if (command === 'import') return await runImport(config, logger, positionals.slice(1), { skipBad: values['skip-bad'] });
      return await runConsolidateOnce(config, logger, { from: values.from, to: values.to, recompute: values.recompute });
    case 'export':
      return await runExport(config, logger, { from: values.from, to: values.to, out: values.out });
    case 'migrate':
      return await runMigrate(config, logger);
    default:
      process.stderr.write(`page-stats: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

function printCredentials(c: { password: string; token: string; file: string }): void {
  // Printed once, to the terminal only: the file keeps hashes, and the logger never sees them.
  process.stdout.write(
    [
      '',
      '  Admin credentials were generated (shown only this once):',
      `    password: ${c.password}     (dashboard sign-in)`,
      `    token:    ${c.token}     (Authorization: Bearer <token>)`,
      `  Hashes are stored in ${c.file}; delete it to generate new ones,`,
      '  or set ADMIN_PASSWORD / ADMIN_TOKEN.',
      '',
      '',
    ].join('\n'),
  );
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`page-stats: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof Error && err.cause !== undefined) process.stderr.write(`  cause: ${String(err.cause)}\n`);
    process.exit(1);
  },
);
