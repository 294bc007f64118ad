import { DateTime } from 'luxon';
import { z } from 'zod';
import { invalidInput } from '../../domain/errors.js';
import { normalisePageName, normaliseRegion } from '../../domain/event.js';
import { coveringDays, parseInstant, type Period } from '../../domain/periods.js';

/**
 * Query strings of the read API. Each endpoint's parameters are one zod schema, used both to parse
 * and (as JSON Schema) to document the route, so the OpenAPI document cannot drift from the code.
 * An empty value means absent (the original dashboard sends `region=`); a repeated or unknown
 * parameter is an error, not silently ignored.
 */
const param = (description: string) => z.string().optional().describe(description);

export const FILTER_PARAMS = {
  region: param('only this region (e.g. `DE`); absent = all'),
  pageName: param('only this page (e.g. `/pricing`); absent = all'),
  startTime: param('ISO-8601 or epoch milliseconds; a date or date-time without offset is read in REPORT_TIMEZONE'),
  endTime: param('ISO-8601 or epoch milliseconds (exclusive); a bare date (`2026-11-30`) includes that whole day'),
};

/** Parses a query string with `schema`; every problem is named in the 400's details. */
export function parseQuery<S extends z.ZodObject>(schema: S, query: unknown): z.output<S> {
  const problems: string[] = [];
  const cleaned: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(value)) problems.push(`${key}: give it once`);
    else if (value !== '') cleaned[key] = value;
  }
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(
        issue.code === 'unrecognized_keys'
          ? `unknown parameter(s) ${issue.keys.join(', ')}: allowed are ${Object.keys(schema.shape).join(', ')}`
          : `${issue.path.join('.')}: ${issue.message}`,
      );
    }
  }
  if (problems.length > 0 || !parsed.success) throw invalidInput('invalid query parameters', problems);
  return parsed.data;
}

export interface Filters {
  region: string | undefined;
  pageName: string | undefined;
}

export function parseFilters(q: { region?: string | undefined; pageName?: string | undefined }, problems: string[]): Filters {
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
  return { region, pageName };
}

const MAX_SPAN_MS = 20 * 366 * 86_400_000;
/** Times the stores can represent and a report can mean: 1970 up to the end of year 9999. */
const MIN_INSTANT = 0;
const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Epoch milliseconds of 1973-03-03: a smaller bare number is almost surely seconds. */
const SMALLEST_EPOCH_MS = 100_000_000_000;

/**
 * One query time. A bare date as the end of a range means "up to and including that day", which
 * is what a date picker sends; a bare number below 10^11 is refused because it looks like seconds.
 */
function parseTime(name: 'startTime' | 'endTime', text: string, zone: string, problems: string[]): number | undefined {
  const t = text.trim();
  if (/^-?\d+$/.test(t) && Math.abs(Number(t)) < SMALLEST_EPOCH_MS) {
    problems.push(`${name}: epoch milliseconds expected (this looks like seconds): ${t}`);
    return undefined;
  }
  const ms = parseInstant(t, zone);
  if (ms === undefined) {
    problems.push(`${name}: expected ISO-8601 or epoch milliseconds, got "${text}"`);
    return undefined;
  }
  if (ms < MIN_INSTANT || ms > MAX_INSTANT) {
    problems.push(`${name}: must be between 1970 and 9999`);
    return undefined;
  }
  if (name === 'endTime' && /^\d{4}-\d{2}-\d{2}$/.test(t)) return DateTime.fromMillis(ms, { zone }).plus({ days: 1 }).startOf('day').toMillis();
  return ms;
}

export type DefaultSpan = { days: number } | { weeks: number } | { months: number };

/** `[startTime, endTime)`; absent `endTime` is now, absent `startTime` is `defaultSpan` before the end. */
export function parseRange(
  q: { startTime?: string | undefined; endTime?: string | undefined },
  zone: string,
  now: number,
  defaultSpan: DefaultSpan,
  problems: string[],
): Period | undefined {
  const end = q.endTime === undefined ? now : parseTime('endTime', q.endTime, zone, problems);
  const start =
    q.startTime === undefined
      ? end === undefined
        ? undefined
        : DateTime.fromMillis(end, { zone }).minus(defaultSpan).toMillis()
      : parseTime('startTime', q.startTime, zone, problems);
  if (start === undefined || end === undefined) return undefined;
  if (start >= end) problems.push('startTime: must be before endTime');
  else if (end - start > MAX_SPAN_MS) problems.push('the range may span at most 20 years');
  return { start, end };
}

/**
 * The whole local days that overlap the requested range: what every stats answer covers. With no
 * times given: the 30 days up to and including today.
 */
export function parseDayRange(
  q: { startTime?: string | undefined; endTime?: string | undefined },
  zone: string,
  now: number,
  problems: string[],
): Period | undefined {
  const end = q.endTime === undefined ? coveringDays(now, now + 1, zone).end : undefined;
  const range = parseRange({ startTime: q.startTime, endTime: q.endTime ?? String(end) }, zone, now, { days: 30 }, problems);
  return range === undefined || problems.length > 0 ? undefined : coveringDays(range.start, range.end, zone);
}

export function fail(problems: string[]): never {
  throw invalidInput('invalid query parameters', problems);
}
