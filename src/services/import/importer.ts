import type { Logger } from 'pino';
import { AppError, invalidInput } from '../../domain/errors.js';
import { chunkDays, localDate, parseLocalDate } from '../../domain/periods.js';
import type { ImportedCount, ImportedCounts } from '../../ports/rollup-store.js';
import { MAX_RANGE_DAYS } from '../consolidator/consolidator.js';
import { decompressed, identify, type OpenSource } from './content.js';
import { EXPECTED_SHAPES, type ImportFormat, KIND, parseContent } from './formats.js';

/** Distinct (bucket, region, page) keys gathered before they are written: bounds memory per import. */
const CHUNK_KEYS = 20_000;
/** Line numbers and problems of skipped lines the report lists (the count is always complete). */
const LISTED_BAD_LINES = 100;
const LISTED_PROBLEMS = 10;

export interface ImportDeps {
  store: ImportedCounts;
  /** recomputes the days from..to (local dates) so the rollups show the import at once */
  consolidate: (range: { from: string; to: string }) => Promise<unknown>;
  timeZone: string;
  now: () => number;
  logger: Logger;
}

export interface ImportProgress {
  /** identify: reading the file for its identity; import: reading and storing its rows */
  phase: 'identify' | 'import' | 'consolidate';
  /** bytes of the file read so far in this phase (compressed, for gzip) */
  bytes: number;
  /** data lines read so far */
  lines: number;
}

export interface ImportOptions {
  /** how the report names the file */
  name: string;
  skipBad: boolean;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportReport {
  file: string;
  status: 'imported' | 'already imported';
  format?: ImportFormat;
  gzip: boolean;
  sha256: string;
  /** data lines read (not the header) */
  lines?: number;
  views?: number;
  skipped?: { count: number; lines: number[]; problems: string[] };
  /** the local days the file has views on, now consolidated */
  from?: string;
  to?: string;
  importedAt?: string;
  /** of durationMs: the recompute of the imported days */
  consolidationMs?: number;
  durationMs: number;
}

/**
 * Imports one file. Its identity is the SHA-256 of its decompressed content, so the same file,
 * gzip or not, is counted once. Rows are written in chunks into a source that counts only once it
 * is complete: a refused file leaves nothing behind, and a crash leaves a partial source that the
 * next import of the file replaces. The imported days are then recomputed, which adds the imported
 * counts to whatever the event store has for them.
 */
export async function importFile(deps: ImportDeps, open: OpenSource, options: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const progress = { phase: 'identify' as ImportProgress['phase'], bytes: 0, lines: 0 };
  const tell = () => options.onProgress?.({ ...progress });
  const onRaw = (n: number) => {
    progress.bytes += n;
    tell();
  };
  const { sha256, gzip } = await identify(open, onRaw);
  const base = { file: options.name, gzip, sha256 };
  let format: ImportFormat | undefined;
  const start = await deps.store.beginImport({ sha256, name: options.name });
  if (start.status === 'already imported') {
    return { ...base, status: 'already imported', importedAt: new Date(start.importedAt).toISOString(), durationMs: Date.now() - started };
  }
  if (start.status === 'in progress') throw invalidInput('this file is being imported right now', [`${options.name} (sha256 ${sha256})`]);
  const source = start.id;
  progress.phase = 'import';
  progress.bytes = 0;
  const chunk = new Map<string, ImportedCount>();
  const skipped = { count: 0, lines: [] as number[], problems: [] as string[] };
  let views = 0;
  let writing: Promise<void> = Promise.resolve();
  // One chunk is written while the next is parsed.
  const flush = async () => {
    const rows = [...chunk.values()];
    chunk.clear();
    await writing;
    writing = deps.store.addImported(source, rows);
  };
  let span: { first: number; last: number } | undefined;
  try {
    const ctx = { timeZone: deps.timeZone, now: deps.now() };
    for await (const parsed of parseContent(decompressed(open(), onRaw), ctx, (f) => (format = f))) {
      progress.lines += 1;
      if ('problems' in parsed) {
        if (!options.skipBad) throw invalidInput(`line ${parsed.line}: ${parsed.problems.join('; ')}`, [`nothing of ${options.name} was imported`]);
        skipped.count += 1;
        if (skipped.lines.length < LISTED_BAD_LINES) skipped.lines.push(parsed.line);
        if (skipped.problems.length < LISTED_PROBLEMS) skipped.problems.push(`line ${parsed.line}: ${parsed.problems.join('; ')}`);
        continue;
      }
      const c = parsed.count;
      if (c === undefined) continue;
      views += c.views;
      const key = `${c.bucket}\u0000${c.region}\u0000${c.pageName}`;
      const known = chunk.get(key);
      if (known !== undefined) known.views += c.views;
      else chunk.set(key, { ...c });
      if (chunk.size >= CHUNK_KEYS) await flush();
    }
    if (format === undefined) throw invalidInput('the file is empty', [EXPECTED_SHAPES]);
    await flush();
    await writing;
    span = await deps.store.completeImport(source, { kind: KIND[format], lines: progress.lines, views });
  } catch (err) {
    await writing.catch(() => {});
    await deps.store.abandonImport(source).catch((e: unknown) => deps.logger.error({ err: e, file: options.name }, 'import_abandon_failed'));
    throw err;
  }
  deps.logger.info({ file: options.name, sha256, format, lines: progress.lines, views, skipped: skipped.count }, 'import_stored');
  const report: ImportReport = { ...base, status: 'imported', format, lines: progress.lines, views, skipped, durationMs: 0 };
  if (span !== undefined) {
    progress.phase = 'consolidate';
    tell();
    report.from = localDate(span.first, deps.timeZone);
    report.to = localDate(span.last, deps.timeZone);
    const consolidating = Date.now();
    try {
      await consolidateDays(deps, report.from, report.to);
      report.consolidationMs = Date.now() - consolidating;
    } catch (err) {
      // The rows are stored and count from the next recompute of their days.
      throw new AppError('store_unavailable', `${options.name} was imported, but consolidating its days failed`, {
        details: [`run: page-stats consolidate --from ${report.from} --to ${report.to}`],
        cause: err,
        retryAfterSeconds: 60,
      });
    }
  }
  report.durationMs = Date.now() - started;
  return report;
}

/** The days from..to, in runs the consolidator accepts. */
async function consolidateDays(deps: ImportDeps, from: string, to: string): Promise<void> {
  const f = parseLocalDate(from, deps.timeZone);
  const t = parseLocalDate(to, deps.timeZone);
  if (f === undefined || t === undefined) return;
  for (const part of chunkDays(f, t, MAX_RANGE_DAYS)) {
    await deps.consolidate({ from: part.from.toISODate() ?? from, to: part.to.toISODate() ?? to });
  }
}
