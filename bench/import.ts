// Issue 17's import benchmark: `page-stats import` (the built CLI, a process of its own) against
// PostgreSQL and InfluxDB, timed with its peak memory, for
//   - a year of daily counts of a site at 150 regions × 5,000 pages (issue 10's FULL_SHAPE: the
//     (day, region, page) rows with views, ~61,000 a day), and
//   - N million events (issue 12's Zipf shape) spread over some days, as CSV.
// Usage: npx tsx bench/import.ts [--days 365] [--events 10000000] [--event-days 30] [--shape full|quick]
// Generated files are kept in the system temp folder and reused by later runs of the same size.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DAY_MS } from './lib/dataset.js';
import { FULL_SHAPE, type LargeShape, PAGE_MULTIPLIER, pageNames, QUICK_SHAPE, REGION_MULTIPLIER, regionCodes, zipfWeights } from './lib/large-shape.js';
import { random, ZipfDay, zipfPage, zipfRegion } from './lib/zipf-events.js';
import { createTestDatabase } from '../test/helpers/postgres.js';
import { CLI } from '../test/helpers/process.js';
import { startInfluxDB } from '../test/tooling/influxdb.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '365' },
    events: { type: 'string', default: '10000000' },
    'event-days': { type: 'string', default: '30' },
    shape: { type: 'string', default: 'full' },
  },
});
const shape: LargeShape = { ...(values.shape === 'quick' ? QUICK_SHAPE : FULL_SHAPE), days: Number(values.days) };
const EVENTS = Number(values.events);
const EVENT_DAYS = Number(values['event-days']);
const FIRST_DAY = Date.parse('2025-01-01T00:00:00Z');
const DIR = join(tmpdir(), 'page-stats-bench-import');

const log = (text: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);

/** Buffered writes: one string per few thousand lines, with the stream's backpressure. */
async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
  const partial = `${file}.partial`;
  const out = createWriteStream(partial);
  let buffered = '';
  for (const line of lines) {
    buffered += line;
    if (buffered.length > 1 << 20) {
      if (!out.write(buffered)) await new Promise<void>((r) => out.once('drain', () => r()));
      buffered = '';
    }
  }
  out.end(buffered);
  await new Promise<void>((r, j) => out.once('finish', () => r()).once('error', j));
  renameSync(partial, file);
}

/**
 * The daily counts of large-generate.ts, drawn in Node instead of SQL: each (region, page) pair
 * has λ = viewsPerDay × w(region) × w(page) × day factor; it has views on a day with probability
 * 1 − e^−λ, then λ ± √λ·z of them (at least 1).
 */
function* dailyLines(): Generator<string> {
  yield 'date,region,pageName,views\n';
  const regions = regionCodes(shape.regions);
  const pages = pageNames(shape.pages).map((p) => (/[",\r\n]|^\s|\s$/.test(p) ? `"${p.replaceAll('"', '""')}"` : p));
  const wr = zipfWeights(shape.regions, shape.regionSkew, REGION_MULTIPLIER);
  const wp = zipfWeights(shape.pages, shape.pageSkew, PAGE_MULTIPLIER);
  const next = random(17);
  for (let d = 0; d < shape.days; d++) {
    const day = new Date(FIRST_DAY + d * DAY_MS);
    const date = day.toISOString().slice(0, 10);
    const weekend = day.getUTCDay() === 0 || day.getUTCDay() === 6;
    const doy = d % 365;
    const f = (weekend ? 0.7 : 1.1) * (1 + 0.15 * Math.sin((2 * Math.PI * doy) / 365.25));
    let text = '';
    for (let r = 0; r < shape.regions; r++) {
      const lr = shape.viewsPerDay * wr[r]! * f;
      for (let p = 0; p < shape.pages; p++) {
        const l = lr * wp[p]!;
        if (l <= 40 && next() < Math.exp(-l)) continue;
        const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
        text += `${date},${regions[r]},${pages[p]},${Math.max(1, Math.round(l + Math.sqrt(l) * z))}\n`;
      }
    }
    yield text;
  }
}

function* eventLines(): Generator<string> {
  yield 'timestamp,region,pageName\n';
  const perDay = Math.ceil(EVENTS / EVENT_DAYS);
  for (let d = 0; d < EVENT_DAYS; d++) {
    const count = Math.min(perDay, EVENTS - d * perDay);
    if (count <= 0) break;
    const day = new ZipfDay(count, FIRST_DAY + d * DAY_MS, DAY_MS, 100 + d);
    let text = '';
    for (let i = 0; i < count; i++) {
      const page = zipfPage(day.page[i]!);
      text += `${day.timestamp(i)},${zipfRegion(day.region[i]!)},${/[",]/.test(page) ? `"${page.replaceAll('"', '""')}"` : page}\n`;
      if (text.length > 1 << 20) {
        yield text;
        text = '';
      }
    }
    yield text;
  }
}

async function ensure(file: string, lines: () => Iterable<string>): Promise<{ bytes: number; lines: number }> {
  if (!existsSync(file)) {
    const started = Date.now();
    log(`generating ${file}`);
    await writeLines(file, lines());
    log(`generated in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return { bytes: statSync(file).size, lines: 0 };
}

interface Run {
  seconds: number;
  peakRssMiB: number;
  report: { lines: number; views: number; consolidationMs: number; durationMs: number; from: string; to: string; status: string };
}

/** One `page-stats import` process under /usr/bin/time: wall time and the kernel's peak resident memory. */
async function importOnce(file: string, env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  const child = spawn('/usr/bin/time', ['-v', process.execPath, CLI, 'import', file], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    process.stderr.write(d);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const seconds = (Date.now() - started) / 1000;
  if (code !== 0) throw new Error(`import exited ${code}:\n${out}\n${err}`);
  const peak = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1] ?? Number.NaN) / 1024;
  return { seconds, peakRssMiB: peak, report: JSON.parse(out).files[0] };
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const dailyFile = join(DIR, `daily-${shape.label}-${shape.days}d.csv`);
  const eventsFile = join(DIR, `events-${EVENTS}-${EVENT_DAYS}d.csv`);
  const daily = await ensure(dailyFile, dailyLines);
  const events = await ensure(eventsFile, eventLines);
  const [influx, database] = await Promise.all([startInfluxDB(), createTestDatabase('bench_import')]);
  try {
    const env = { INFLUX_URL: influx.url, INFLUX_DB: 'bench_import', DATABASE_URL: database.url, REPORT_TIMEZONE: 'UTC', DATA_DIR: DIR };
    const results: string[] = [];
    for (const [label, file, size] of [
      [`daily counts, ${shape.regions} regions × ${shape.pages} pages, ${shape.days} days`, dailyFile, daily.bytes],
      [`${EVENTS.toLocaleString('en-US')} events over ${EVENT_DAYS} days`, eventsFile, events.bytes],
    ] as const) {
      log(`importing ${label}`);
      const run = await importOnce(file, env);
      const again = await importOnce(file, env);
      const r = run.report;
      results.push(
        `| ${label} | ${(size / 1e6).toFixed(0)} MB | ${r.lines.toLocaleString('en-US')} | ${run.seconds.toFixed(1)} s | ` +
          `${Math.round(r.lines / ((r.durationMs - r.consolidationMs) / 1000)).toLocaleString('en-US')} | ${(r.consolidationMs / 1000).toFixed(1)} s | ` +
          `${run.peakRssMiB.toFixed(0)} MiB | ${again.report.status}, ${again.seconds.toFixed(1)} s |`,
      );
    }
    process.stdout.write(
      [
        '',
        '| file | size | lines | import (wall, process) | lines/s (read + store) | of which consolidation | peak RSS of the import process | same file again |',
        '|---|---|---|---|---|---|---|---|',
        ...results,
        '',
      ].join('\n'),
    );
  } finally {
    await Promise.allSettled([influx.stop(), database.drop()]);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
