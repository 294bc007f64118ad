import { DateTime } from 'luxon';
import { z } from 'zod';
import { invalidInput } from '../../domain/errors.js';
import { normalisePageName, normaliseRegion } from '../../domain/event.js';
import { parseInstant, type Granularity } from '../../domain/periods.js';

export interface RangeQuery {
  start: number;
  end: number;
  region: string | undefined;
  pageName: string | undefined;
}

const single = (name: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v, ctx) => {
      if (Array.isArray(v)) {
        ctx.addIssue({ code: 'custom', message: `${name}: give it once` });
        return z.NEVER;
      }
      return v === undefined || v === '' ? undefined : v;
    });

const RangeSchema = z.strictObject({
  region: single('region'),
  pageName: single('pageName'),
  startTime: single('startTime'),
  endTime: single('endTime'),
});

/** Default span when `startTime` is absent: enough periods to draw a useful chart. */
const DEFAULT_SPAN: Record<Granularity, object> = { daily: { days: 30 }, weekly: { weeks: 12 }, monthly: { months: 12 } };
const MAX_SPAN_MS = 20 * 366 * 86_400_000;
/** Times the stores can represent and a report can mean: 1970 up to the end of year 9999. */
const MIN_INSTANT = 0;
const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * `?region=&pageName=&startTime=&endTime=`: empty means absent (the original dashboard sends
 * `region=`), times are ISO-8601 or epoch ms, and an unknown parameter is an error, not ignored.
 */
export function parseRangeQuery(query: unknown, granularity: Granularity, zone: string, now: number): RangeQuery {
  const parsed = RangeSchema.safeParse(query ?? {});
  if (!parsed.success) {
    throw invalidInput(
      'invalid query parameters',
      parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? `unknown parameter(s) ${i.keys.join(', ')}: allowed are region, pageName, startTime, endTime`
          : i.message,
      ),
    );
  }
  const q = parsed.data;
  const problems: string[] = [];
  const end = q.endTime === undefined ? now : parseInstant(q.endTime, zone);
  if (end === undefined) problems.push(`endTime: expected ISO-8601 or epoch milliseconds, got "${q.endTime}"`);
  const start =
    q.startTime === undefined
      ? end === undefined
        ? undefined
        : DateTime.fromMillis(end, { zone }).minus(DEFAULT_SPAN[granularity]).toMillis()
      : parseInstant(q.startTime, zone);
  if (start === undefined && q.startTime !== undefined) {
    problems.push(`startTime: expected ISO-8601 or epoch milliseconds, got "${q.startTime}"`);
  }
  for (const [name, value] of [['startTime', start], ['endTime', end]] as const) {
    if (value !== undefined && (value < MIN_INSTANT || value > MAX_INSTANT)) problems.push(`${name}: must be between 1970 and 9999`);
  }
  if (start !== undefined && end !== undefined) {
    if (start >= end) problems.push('startTime: must be before endTime');
    else if (end - start > MAX_SPAN_MS) problems.push('the range may span at most 20 years');
  }
  let region: string | undefined;
  if (q.region !== undefined) {
    const r = normaliseRegion(q.region);
    if (r.ok) region = r.value;
    else problems.push(...r.problems);
  }
  let pageName: string | undefined;
  if (q.pageName !== undefined) {
    const p = normalisePageName(q.pageName);
    if (p.ok) pageName = p.value;
    else problems.push(...p.problems);
  }
  if (problems.length > 0 || start === undefined || end === undefined) throw invalidInput('invalid query parameters', problems);
  return { start, end, region, pageName };
}
