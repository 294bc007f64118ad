import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { basename } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { AppError } from '../domain/errors.js';
import { dailyCountLines, exportRange } from '../services/import/export.js';
import { type ImportReport, importFile } from '../services/import/importer.js';
import { Adapters } from './adapters.js';
import type { Config } from './config.js';
import { progressReporter } from './import-progress.js';
import { openConsolidator } from './one-shot.js';

type FileOutcome = ImportReport | { file: string; status: 'refused' | 'failed'; error: string; details: string[] };

/**
 * `page-stats import FILE…`: each file in turn, with progress on stderr and one JSON report on
 * stdout; exits non-zero when a file was refused or failed (the others are still imported). In
 * embedded mode beside a running server the files go through its POST /admin/import, as that
 * process owns the database.
 */
export async function runImport(config: Config, logger: Logger, files: readonly string[], options: { skipBad: boolean }): Promise<number> {
  if (files.length === 0) {
    process.stderr.write('page-stats import: name at least one file\n');
    return 2;
  }
  const adapters = new Adapters(config, logger);
  const server = adapters.runningServer();
  const outcomes: FileOutcome[] = [];
  try {
    // The consolidator's own progress logs would only repeat what the report says.
    const quiet = logger.child({}, { level: 'warn' });
    const direct = server === undefined ? { store: await adapters.rollupStore(), consolidator: await openConsolidator(config, adapters, quiet) } : undefined;
    for (const file of files) {
      const size = await stat(file).then(
        (s) => s.size,
        () => undefined,
      );
      if (size === undefined) {
        outcomes.push({ file, status: 'failed', error: 'no such file', details: [] });
        continue;
      }
      const progress = progressReporter(basename(file), size);
      try {
        if (direct !== undefined) {
          outcomes.push(
            await importFile(
              {
                store: direct.store,
                consolidate: async (r) => await direct.consolidator.run(r),
                timeZone: config.reportTimeZone,
                now: Date.now,
                logger: quiet,
              },
              () => createReadStream(file),
              { name: basename(file), skipBad: options.skipBad, onProgress: (p) => progress.update(p) },
            ),
          );
        } else outcomes.push(await importThrough(server!, file, options.skipBad, (bytes) => progress.update({ phase: 'upload', bytes, lines: 0 })));
      } catch (err) {
        outcomes.push(outcomeOf(file, err));
      } finally {
        progress.done();
      }
    }
  } finally {
    await adapters.close();
  }
  for (const o of outcomes)
    if (o.status === 'refused' || o.status === 'failed')
      process.stderr.write(`page-stats import: ${o.file}: ${o.error}\n${o.details.map((d) => `  ${d}\n`).join('')}`);
  process.stdout.write(`${JSON.stringify({ files: outcomes }, null, 2)}\n`);
  return outcomes.every((o) => o.status === 'imported' || o.status === 'already imported') ? 0 : 1;
}

function outcomeOf(file: string, err: unknown): FileOutcome {
  if (err instanceof AppError) return { file, status: err.code === 'invalid_input' ? 'refused' : 'failed', error: err.message, details: err.details };
  return { file, status: 'failed', error: err instanceof Error ? err.message : String(err), details: [] };
}

/**
 * Uploads the file to the running server's POST /admin/import. node:http rather than fetch: the
 * answer comes when the import has ended, and fetch gives up on headers after five minutes.
 */
async function importThrough(server: { url: string; token: string }, file: string, skipBad: boolean, onBytes: (n: number) => void): Promise<FileOutcome> {
  const query = new URLSearchParams({ name: basename(file), ...(skipBad ? { skipBad: 'true' } : {}) });
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      `${server.url}/admin/import?${query}`,
      { method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/octet-stream' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    let sent = 0;
    const source = createReadStream(file).on('data', (chunk) => {
      sent += chunk.length;
      onBytes(sent);
    });
    pipeline(source, req).catch(reject);
  });
  let parsed: { error?: string; details?: string[] } & Record<string, unknown>;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { error: text };
  }
  if (status === 200) return parsed as unknown as ImportReport;
  return {
    file,
    status: status === 400 ? 'refused' : 'failed',
    error: `the running server answered ${status}: ${parsed.error ?? ''}`,
    details: parsed.details ?? [],
  };
}

/**
 * `page-stats export --from D --to D [--out FILE]`: the daily counts of those days in the
 * daily-count import format, to FILE or stdout, streamed from the rollups a page at a time.
 */
export async function runExport(
  config: Config,
  logger: Logger,
  options: { from?: string | undefined; to?: string | undefined; out?: string | undefined },
): Promise<number> {
  const adapters = new Adapters(config, logger);
  const server = adapters.runningServer();
  try {
    const range = exportRange(options.from, options.to, config.reportTimeZone);
    const out: Writable = options.out === undefined ? process.stdout : createWriteStream(options.out, { mode: 0o600 });
    if (server !== undefined) {
      const res = await fetch(`${server.url}/admin/export?${new URLSearchParams({ from: options.from ?? '', to: options.to ?? '' })}`, {
        headers: { authorization: `Bearer ${server.token}` },
      });
      if (!res.ok || res.body === null) throw new Error(`the running server answered ${res.status}: ${await res.text()}`);
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), out, { end: options.out !== undefined });
    } else {
      const rollups = await adapters.rollupStore();
      await rollups.migrate();
      await pipeline(Readable.from(dailyCountLines(rollups, range, config.reportTimeZone)), out, { end: options.out !== undefined });
    }
    return 0;
  } catch (err) {
    const details = err instanceof AppError ? err.details.map((d) => `  ${d}\n`).join('') : '';
    process.stderr.write(`page-stats export: ${err instanceof Error ? err.message : String(err)}\n${details}`);
    return 1;
  } finally {
    await adapters.close();
  }
}
