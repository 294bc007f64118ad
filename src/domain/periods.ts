import { DateTime } from 'luxon';

/**
 * Period maths in the reporting time zone. Days, weeks and months are wall-clock periods:
 * a Berlin day is 23 or 25 hours long around DST changes, so never add 86_400_000 ms.
 * Instants are epoch milliseconds; period starts are the instant of local midnight.
 */
export type Granularity = 'daily' | 'weekly' | 'monthly';
export const GRANULARITIES: readonly Granularity[] = ['daily', 'weekly', 'monthly'];

/** ISO weekday number: 1 = Monday … 7 = Sunday. */
export type WeekStart = 1 | 2 | 3 | 4 | 5 | 6 | 7;

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

export function parseWeekStart(text: string): WeekStart | undefined {
  const t = text.trim().toLowerCase();
  const byName = WEEKDAYS.findIndex((d) => d === t || d.slice(0, 3) === t);
  if (byName >= 0) return (byName + 1) as WeekStart;
  if (/^[1-7]$/.test(t)) return Number(t) as WeekStart;
  return undefined;
}

export function isValidTimeZone(zone: string): boolean {
  return DateTime.now().setZone(zone).isValid;
}

export interface Period {
  start: number;
  end: number;
}

function local(instant: number, zone: string): DateTime {
  return DateTime.fromMillis(instant, { zone });
}

export function periodStart(granularity: Granularity, instant: number, zone: string, weekStart: WeekStart): DateTime {
  const day = local(instant, zone).startOf('day');
  switch (granularity) {
    case 'daily':
      return day;
    case 'weekly': {
      const back = (day.weekday - weekStart + 7) % 7;
      return day.minus({ days: back }).startOf('day');
    }
    case 'monthly':
      return day.startOf('month');
  }
}

export function periodOf(granularity: Granularity, instant: number, zone: string, weekStart: WeekStart): Period {
  const start = periodStart(granularity, instant, zone, weekStart);
  const step = granularity === 'daily' ? { days: 1 } : granularity === 'weekly' ? { weeks: 1 } : { months: 1 };
  return { start: start.toMillis(), end: start.plus(step).startOf('day').toMillis() };
}

/** A local calendar date `YYYY-MM-DD`, validated. */
export function parseLocalDate(text: string, zone: string): DateTime | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const dt = DateTime.fromISO(text, { zone });
  return dt.isValid ? dt.startOf('day') : undefined;
}

export function localDate(instant: number, zone: string): string {
  return local(instant, zone).toISODate() ?? '';
}

/** The instants spanned by the local days `from` … `to` inclusive. */
export function dayWindow(from: DateTime, to: DateTime): Period {
  return { start: from.startOf('day').toMillis(), end: to.plus({ days: 1 }).startOf('day').toMillis() };
}

/** The local days `from` … `to` inclusive, split into chunks of at most `maxDays` days. */
export function chunkDays(from: DateTime, to: DateTime, maxDays: number): Array<{ from: DateTime; to: DateTime }> {
  const chunks: Array<{ from: DateTime; to: DateTime }> = [];
  let cursor = from.startOf('day');
  const last = to.startOf('day');
  while (cursor <= last) {
    const end = DateTime.min(cursor.plus({ days: maxDays - 1 }), last);
    chunks.push({ from: cursor, to: end });
    cursor = end.plus({ days: 1 }).startOf('day');
  }
  return chunks;
}

/**
 * Parses a query time: epoch milliseconds or ISO-8601. A date or date-time without an
 * offset is read in the reporting time zone, which is what an admin typing `2026-11-01` means.
 */
export function parseInstant(text: string, zone: string): number | undefined {
  const t = text.trim();
  if (/^-?\d{1,16}$/.test(t)) {
    const ms = Number(t);
    return Number.isSafeInteger(ms) && Math.abs(ms) <= 8.64e15 ? ms : undefined;
  }
  const dt = DateTime.fromISO(t, { zone, setZone: false });
  return dt.isValid ? dt.toMillis() : undefined;
}

const STEP: Record<Granularity, { days: number } | { weeks: number } | { months: number }> = {
  daily: { days: 1 },
  weekly: { weeks: 1 },
  monthly: { months: 1 },
};

const DAY_MS = 86_400_000;

/** Offsets (minutes) of a zone at exact instants, remembered: the same local midnights come back request after request. */
const offsets = new Map<string, Map<number, number>>();
const OFFSETS_KEPT = 100_000;

function offsetAt(zone: string, instant: number): number {
  let known = offsets.get(zone);
  if (known === undefined) offsets.set(zone, (known = new Map()));
  let offset = known.get(instant);
  if (offset === undefined) {
    if (known.size >= OFFSETS_KEPT) known.clear();
    offset = DateTime.fromMillis(instant, { zone }).offset;
    known.set(instant, offset);
  }
  return offset;
}

/**
 * Starts of every period of `granularity` that overlaps [start, end), ascending.
 * The next start is local midnight of the next day, week or month at the current offset, kept when
 * the zone still has that offset there; that is exactly luxon's `plus(step).startOf('day')` from a
 * local midnight (it tries the previous offset first). Across an offset change, or when a period
 * cannot start at 00:00 (a DST gap at midnight), luxon takes the step.
 */
export function periodStarts(granularity: Granularity, start: number, end: number, zone: string, weekStart: WeekStart): number[] {
  const starts: number[] = [];
  const first = periodStart(granularity, start, zone, weekStart);
  let at = first.toMillis();
  let offset = first.offset;
  while (at < end) {
    starts.push(at);
    const wall = at + offset * 60_000;
    let next: number | undefined;
    if (((wall % DAY_MS) + DAY_MS) % DAY_MS === 0) {
      const date = new Date(wall);
      // setUTCMonth rather than Date.UTC, which reads years 0–99 as 1900–1999.
      const nextWall = granularity === 'monthly' ? date.setUTCMonth(date.getUTCMonth() + 1, 1) : wall + (granularity === 'daily' ? 1 : 7) * DAY_MS;
      const candidate = nextWall - offset * 60_000;
      if (offsetAt(zone, candidate) === offset) next = candidate;
    }
    if (next === undefined) {
      const stepped = local(at, zone).plus(STEP[granularity]).startOf('day');
      next = stepped.toMillis();
      offset = stepped.offset;
    }
    at = next;
  }
  return starts;
}

/** The whole local days that overlap [start, end): from the start of the first to the start of the day after the last. */
export function coveringDays(start: number, end: number, zone: string): Period {
  const first = local(start, zone).startOf('day');
  const lastStart = local(end, zone).startOf('day');
  const last = lastStart.toMillis() === end ? lastStart : lastStart.plus({ days: 1 }).startOf('day');
  return { start: first.toMillis(), end: last.toMillis() };
}

/** The same number of local days immediately before `days` (whole local days). */
export function previousDays(days: Period, zone: string): Period {
  const first = local(days.start, zone);
  const count = Math.round(local(days.end, zone).diff(first, 'days').days);
  return { start: first.minus({ days: count }).startOf('day').toMillis(), end: days.start };
}

/**
 * Period starts of the rollup rows that together cover a range of days exactly once: the rows of
 * `months`, `weeks` and `days` are added, those of `minus` (days of a month taken whole that lie
 * outside the range) subtracted. Every view count is exact, so the sums are too; a key whose sum
 * comes to 0 had no views in the range.
 */
export interface Decomposition {
  months: number[];
  weeks: number[];
  days: number[];
  minus?: { weeks: number[]; days: number[] };
}

/** Pieces being collected: `minus` holds the subtracted weeks and days. */
interface Pieces {
  months: number[];
  weeks: number[];
  days: number[];
  minus: { weeks: number[]; days: number[] };
}

const noPieces = (): Pieces => ({ months: [], weeks: [], days: [], minus: { weeks: [], days: [] } });

const count = (p: Pieces): number => p.months.length + p.weeks.length + p.days.length + p.minus.weeks.length + p.minus.days.length;

/** `into` gains `p`'s pieces, with their signs flipped when `sign` is -1 (p never holds months then). */
function addPieces(into: Pieces, p: Pieces, sign: 1 | -1): void {
  into.months.push(...p.months);
  const [plus, minus] = sign === 1 ? [into, into.minus] : [into.minus, into];
  plus.weeks.push(...p.weeks);
  plus.days.push(...p.days);
  minus.weeks.push(...p.minus.weeks);
  minus.days.push(...p.minus.days);
}

function decomposition(p: Pieces): Decomposition {
  const out: Decomposition = { months: p.months, weeks: p.weeks, days: p.days };
  return p.minus.weeks.length + p.minus.days.length === 0 ? out : { ...out, minus: p.minus };
}

/**
 * Splits whole local days [start, end) into the fewest rollup rows: each key has one row per
 * piece, so a year is 12 monthly rows per key instead of 365 daily ones. A month or a week cut by
 * the range is taken whole with its days outside the range subtracted when that is fewer pieces
 * (a week with 6 days inside: the week minus 1 day). Two ways are compared: whole months then
 * weeks and days; or month by month, each cut month added in part or taken whole minus the rest
 * (30 days from Tuesday the 3rd: the month, minus 2 days, plus 2 days of the next month: 5 rows
 * per key instead of 8).
 */
export function decomposeDays(days: Period, zone: string, weekStart: WeekStart): Decomposition {
  const from = local(days.start, zone).startOf('day');
  const to = local(days.end, zone).startOf('day');
  const added = additive(from, to, weekStart);
  const signed = monthByMonth(from, to, weekStart);
  return decomposition(count(signed) < count(added) ? signed : added);
}

/** Whole months, then weeks and days for the parts before the first and after the last. */
function additive(from: DateTime, to: DateTime, weekStart: WeekStart): Pieces {
  const out = noPieces();
  let firstMonth = from.startOf('month');
  if (firstMonth < from) firstMonth = firstMonth.plus({ months: 1 }).startOf('day');
  let cursor = firstMonth;
  while (cursor.plus({ months: 1 }).startOf('day') <= to) {
    out.months.push(cursor.toMillis());
    cursor = cursor.plus({ months: 1 }).startOf('day');
  }
  if (out.months.length === 0) splitWeeks(from, to, weekStart, out);
  else {
    splitWeeks(from, firstMonth, weekStart, out);
    splitWeeks(cursor, to, weekStart, out);
  }
  return out;
}

/** Each calendar month the range touches: whole, or its part in the range, or whole minus the rest. */
function monthByMonth(from: DateTime, to: DateTime, weekStart: WeekStart): Pieces {
  const out = noPieces();
  for (let month = from.startOf('month'); month < to; month = month.plus({ months: 1 }).startOf('day')) {
    const next = month.plus({ months: 1 }).startOf('day');
    const a = DateTime.max(month, from);
    const b = DateTime.min(next, to);
    if (a.toMillis() === month.toMillis() && b.toMillis() === next.toMillis()) {
      out.months.push(month.toMillis());
      continue;
    }
    const inside = noPieces();
    splitWeeks(a, b, weekStart, inside);
    const outside = noPieces();
    splitWeeks(month, a, weekStart, outside);
    splitWeeks(b, next, weekStart, outside);
    if (1 + count(outside) < count(inside)) {
      out.months.push(month.toMillis());
      addPieces(out, outside, -1);
    } else addPieces(out, inside, 1);
  }
  return out;
}

/** The local days [from, to), one start each. */
function daysOf(from: DateTime, to: DateTime): number[] {
  const out: number[] = [];
  for (let d = from; d < to; d = d.plus({ days: 1 }).startOf('day')) out.push(d.toMillis());
  return out;
}

/**
 * [from, to) as whole weeks; a week the range cuts is its days inside, or the week minus its days
 * outside when that is fewer pieces (5 or 6 days inside).
 */
function splitWeeks(from: DateTime, to: DateTime, weekStart: WeekStart, out: Pieces): void {
  for (let week = from.minus({ days: (from.weekday - weekStart + 7) % 7 }).startOf('day'); week < to; ) {
    const next = week.plus({ weeks: 1 }).startOf('day');
    const a = DateTime.max(week, from);
    const b = DateTime.min(next, to);
    const inside = daysOf(a, b);
    const outside = [...daysOf(week, a), ...daysOf(b, next)];
    if (outside.length === 0) out.weeks.push(week.toMillis());
    else if (1 + outside.length < inside.length) {
      out.weeks.push(week.toMillis());
      out.minus.days.push(...outside);
    } else out.days.push(...inside);
    week = next;
  }
}
