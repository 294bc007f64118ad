import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorCodes, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { invalidInput } from '../../domain/errors.js';
import { dailyCountLines, exportRange } from '../import/export.js';
import { type ImportDeps, importFile } from '../import/importer.js';
import type { RollupStore } from '../../ports/rollup-store.js';
import { documented } from './route-docs.js';

/** The largest upload POST /admin/import takes (compressed size, for gzip): about a year of a large site's events. */
export const MAX_IMPORT_BYTES = 16 * 1024 ** 3;
const MEDIA_TYPES = ['text/csv', 'application/x-ndjson', 'application/gzip', 'application/octet-stream'];

export interface ImportRouteDeps {
  /** absent where this process cannot consolidate (imports are refused there) */
  importer: Omit<ImportDeps, 'store'> | undefined;
  rollups: RollupStore;
  timezone: string;
}

const ImportQuery = z.strictObject({
  skipBad: z.enum(['true', 'false']).optional().describe('`true`: skip lines that are not valid and list them in the report, instead of refusing the file'),
  name: z.string().max(200).optional().describe('how the report names the file (default: upload)'),
});
const ImportReport = z.object({
  file: z.string(),
  status: z.enum(['imported', 'already imported']),
  format: z.enum(['events-csv', 'events-ndjson', 'daily-csv']).optional(),
  gzip: z.boolean(),
  sha256: z.string(),
  lines: z.number().optional(),
  views: z.number().optional(),
  skipped: z.object({ count: z.number(), lines: z.array(z.number()), problems: z.array(z.string()) }).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  importedAt: z.string().optional(),
  consolidationMs: z.number().optional(),
  durationMs: z.number(),
});
const ExportQuery = z.strictObject({
  from: z.string().describe('first day, YYYY-MM-DD in REPORT_TIMEZONE'),
  to: z.string().describe('last day (inclusive), YYYY-MM-DD'),
});

/** POST /admin/import and GET /admin/export: history in and out, in the files `page-stats import` reads. */
export async function importRoutes(app: FastifyInstance, deps: ImportRouteDeps): Promise<void> {
  // The body reaches the handler as a stream: the global body limit is for JSON, not for a year of history.
  app.addContentTypeParser(MEDIA_TYPES, (_req, payload, done) => done(null, payload));

  app.post(
    '/admin/import',
    documented({
      summary: 'Import page views from a file',
      description:
        'The body is a file as `page-stats import` reads it: events as CSV `timestamp,region,pageName` or NDJSON, or daily counts as CSV `date,region,pageName,views` (dates in REPORT_TIMEZONE), gzip or not. The same content twice is counted once. A line that is not valid refuses the file (400, nothing stored) unless skipBad=true. The imported days are consolidated before the answer.',
      tags: ['admin'],
      query: ImportQuery,
      response: ImportReport,
    }),
    async (req) => {
      const q = ImportQuery.safeParse(req.query ?? {});
      if (!q.success) throw invalidInput('invalid query parameters', ['allowed are skipBad=true|false and name=<text>']);
      if (deps.importer === undefined) throw invalidInput('this process does not run consolidation, so it cannot import');
      const body = req.body as NodeJS.ReadableStream | undefined;
      if (body === undefined || typeof (body as { pipe?: unknown }).pipe !== 'function') {
        throw invalidInput('send the file as the request body', [`content type one of ${MEDIA_TYPES.join(', ')}`]);
      }
      // The upload is spooled to disk first: it arrives whole within the server's request
      // timeout, however long the import itself then takes, and the file can be read twice.
      const dir = await mkdtemp(join(tmpdir(), 'page-stats-import-'));
      const file = join(dir, 'upload');
      try {
        let bytes = 0;
        const limit = new Transform({
          transform(chunk: Buffer, _enc, done) {
            bytes += chunk.length;
            if (bytes > MAX_IMPORT_BYTES) done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
            else done(null, chunk);
          },
        });
        await pipeline(body, limit, createWriteStream(file, { mode: 0o600 }));
        const name = q.data.name ?? 'upload';
        let logged = Date.now();
        return await importFile({ ...deps.importer, store: deps.rollups }, () => createReadStream(file), {
          name,
          skipBad: q.data.skipBad === 'true',
          onProgress: (p) => {
            if (Date.now() - logged < 5_000) return;
            logged = Date.now();
            req.log.info({ file: name, phase: p.phase, lines: p.lines, bytes: p.bytes, totalBytes: bytes }, 'import_progress');
          },
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  app.get(
    '/admin/export',
    documented({
      summary: 'Export daily counts',
      description:
        'The daily rows of the days from..to as CSV `date,region,pageName,views` (dates in REPORT_TIMEZONE): the daily-count format POST /admin/import reads back to the same numbers.',
      tags: ['admin'],
      query: ExportQuery,
      produces: ['text/csv'],
    }),
    async (req, reply) => {
      const q = ExportQuery.safeParse(req.query ?? {});
      if (!q.success) throw invalidInput('invalid query parameters', ['from=YYYY-MM-DD and to=YYYY-MM-DD are required']);
      const range = exportRange(q.data.from, q.data.to, deps.timezone);
      const lines = dailyCountLines(deps.rollups, range, deps.timezone);
      // The first page is read before the answer starts: a store that is down gives a 503, not a cut 200.
      const header = await lines.next();
      const page = await lines.next();
      async function* all(): AsyncGenerator<string> {
        if (!header.done) yield header.value;
        if (page.done) return;
        yield page.value;
        yield* lines;
      }
      void reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="page-stats-${q.data.from}-${q.data.to}.csv"`);
      return reply.send(Readable.from(all()));
    },
  );
}
