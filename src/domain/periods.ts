import { DateTime } from 'luxon';
import { MAX_FUTURE_MS } from './event.js';

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
 * Starts of the rollup rows that together cover a range of days exactly once: the rows of the
 * top-level lists are added, those of `minus` (parts of a period taken whole that lie outside the
 * range) subtracted. Years and quarters are local dates (`YYYY-01-01`, `YYYY-04-01`), the rest
 * instants of local midnight. Every view count is exact, so the sums are too; a key whose sum
 * comes to 0 had no views in the range.
 */
export interface PieceSet {
  years: string[];
  quarters: string[];
  months: number[];
  weeks: number[];
  days: number[];
}

export interface Decomposition extends PieceSet {
  minus?: PieceSet;
}

/** Pieces being collected: `minus` holds the subtracted ones. */
interface Pieces extends PieceSet {
  minus: PieceSet;
}

const noSet = (): PieceSet => ({ years: [], quarters: [], months: [], weeks: [], days: [] });
const noPieces = (): Pieces => ({ ...noSet(), minus: noSet() });

const setCount = (s: PieceSet): number => s.years.length + s.quarters.length + s.months.length + s.weeks.length + s.days.length;
const count = (p: Pieces): number => setCount(p) + setCount(p.minus);

function addSet(into: PieceSet, s: PieceSet): void {
  into.years.push(...s.years);
  into.quarters.push(...s.quarters);
  into.months.push(...s.months);
  into.weeks.push(...s.weeks);
  into.days.push(...s.days);
}

/** `into` gains `p`'s pieces, with their signs flipped when `sign` is -1. */
function addPieces(into: Pieces, p: Pieces, sign: 1 | -1): void {
  const [plus, minus] = sign === 1 ? [into, into.minus] : [into.minus, into];
  addSet(plus, p);
  addSet(minus, p.minus);
}

function decomposition(p: Pieces): Decomposition {
  const { minus, ...plus } = p;
  return setCount(minus) === 0 ? plus : { ...plus, minus };
}

/** Calendar periods that nest: a year holds four quarters, a quarter three months. */
type Calendar = 'yearly' | 'quarterly' | 'monthly';
const BELOW: Record<Calendar, Calendar | undefined> = { yearly: 'quarterly', quarterly: 'monthly', monthly: undefined };
const CALENDAR_STEP: Record<Calendar, { years: number } | { months: number }> = { yearly: { years: 1 }, quarterly: { months: 3 }, monthly: { months: 1 } };
const CALENDAR_UNIT = { yearly: 'year', quarterly: 'quarter', monthly: 'month' } as const;

function pushPeriod(out: PieceSet, level: Calendar, start: DateTime): void {
  if (level === 'monthly') out.months.push(start.toMillis());
  else (level === 'yearly' ? out.years : out.quarters).push(start.toISODate() ?? '');
}

/**
 * The start of the local day from which no rollup holds views yet, as seen at `now`: ingest refuses
 * timestamps more than 5 minutes ahead and imports refuse days after today, so nothing is stored
 * from the day after `now` + 5 minutes on; an hour more allows for the clocks of other processes.
 * A period that runs past it can be read whole: its days after it hold nothing to subtract.
 */
export function dataEnd(now: number, zone: string): number {
  return local(now + MAX_FUTURE_MS + 3_600_000, zone)
    .startOf('day')
    .plus({ days: 1 })
    .startOf('day')
    .toMillis();
}

/**
 * Splits whole local days [start, end) into the fewest rollup rows: each key has one row per
 * piece, so a year is 1 yearly row per key instead of 365 daily ones. A period cut by the range is
 * taken whole with its parts outside the range subtracted when that is fewer pieces (a quarter
 * with two months and 27 days inside: the quarter minus 4 days), and read whole when its part
 * after the range lies at or after `end` of the data (`dataEnd`: the current year as far as today
 * is its yearly row). Three ways are compared: nested calendar periods, each cut one split at the
 * level below; whole months (as years and quarters where whole) with weeks and days for the
 * edges, where a week may straddle a month boundary; weeks and days only.
 */
export function decomposeDays(days: Period, zone: string, weekStart: WeekStart, dataEndAt = Number.POSITIVE_INFINITY): Decomposition {
  // Dashboards ask the same ranges request after request, and luxon's zone maths costs 1–3 ms a range.
  const key = `${days.start}:${days.end}:${zone}:${weekStart}:${dataEndAt}`;
  let known = decomposed.get(key);
  if (known === undefined) {
    if (decomposed.size >= DECOMPOSITIONS_KEPT) decomposed.clear();
    known = decompose(days, zone, weekStart, dataEndAt);
    decomposed.set(key, known);
  }
  return known;
}

/** Decompositions already made, shared (read only) by the requests that ask for the same days. */
const decomposed = new Map<string, Decomposition>();
const DECOMPOSITIONS_KEPT = 10_000;

function decompose(days: Period, zone: string, weekStart: WeekStart, dataEndAt: number): Decomposition {
  const from = local(days.start, zone).startOf('day');
  const limit = Number.isFinite(dataEndAt) ? local(dataEndAt, zone).startOf('day') : undefined;
  const to = limit !== undefined && limit < local(days.end, zone) ? DateTime.max(limit, from) : local(days.end, zone).startOf('day');
  const split = new Splitter(weekStart, limit);
  const candidates = [split.cover(from, to, 'yearly'), split.additive(from, to), split.cover(from, to, undefined)];
  return decomposition(candidates.reduce((best, c) => (count(c) < count(best) ? c : best)));
}

/** The ways of decomposeDays, with the covers of each interval remembered (the recursion meets the same edges again). */
class Splitter {
  private readonly known = new Map<string, Pieces>();

  constructor(
    private readonly weekStart: WeekStart,
    private readonly limit: DateTime | undefined,
  ) {}

  /** [from, to) in periods of `level` and below, each period cut by the range split one level down or taken whole minus the rest. */
  cover(from: DateTime, to: DateTime, level: Calendar | undefined): Pieces {
    if (from >= to) return noPieces();
    const key = `${level ?? 'weeks'}:${from.toMillis()}:${to.toMillis()}`;
    const seen = this.known.get(key);
    if (seen !== undefined) return seen;
    const out = noPieces();
    if (level === undefined) splitWeeks(from, to, this.weekStart, out, this.limit);
    else {
      for (let period = from.startOf(CALENDAR_UNIT[level]); period < to; ) {
        const next = period.plus(CALENDAR_STEP[level]).startOf('day');
        const a = DateTime.max(period, from);
        const b = DateTime.min(next, to);
        const free = this.limit !== undefined && b >= this.limit;
        if (a.equals(period) && (b.equals(next) || free)) pushPeriod(out, level, period);
        else {
          const below = BELOW[level];
          const inside = this.cover(a, b, below);
          const outside = noPieces();
          addPieces(outside, this.cover(period, a, below), 1);
          if (!free) addPieces(outside, this.cover(b, next, below), 1);
          if (1 + count(outside) < count(inside)) {
            pushPeriod(out, level, period);
            addPieces(out, outside, -1);
          } else addPieces(out, inside, 1);
        }
        period = next;
      }
    }
    this.known.set(key, out);
    return out;
  }

  /** Whole months (whole years and quarters among them as such), then weeks and days for the parts before the first and after the last. */
  additive(from: DateTime, to: DateTime): Pieces {
    const out = noPieces();
    let firstMonth = from.startOf('month');
    if (firstMonth < from) firstMonth = firstMonth.plus({ months: 1 }).startOf('day');
    let cursor = firstMonth;
    // A period that runs past the end of the data can be read whole when the range reaches that end.
    const open = this.limit !== undefined && to >= this.limit;
    while (cursor < to) {
      const level = (['yearly', 'quarterly', 'monthly'] as const).find(
        (l) => cursor.equals(cursor.startOf(CALENDAR_UNIT[l])) && (open || cursor.plus(CALENDAR_STEP[l]).startOf('day') <= to),
      );
      if (level === undefined) break;
      pushPeriod(out, level, cursor);
      cursor = cursor.plus(CALENDAR_STEP[level]).startOf('day');
    }
    if (cursor.equals(firstMonth)) splitWeeks(from, to, this.weekStart, out, this.limit);
    else {
      splitWeeks(from, firstMonth, this.weekStart, out, this.limit);
      if (cursor < to) splitWeeks(cursor, to, this.weekStart, out, this.limit);
    }
    return out;
  }
}

/** The local days [from, to), one start each. */
function daysOf(from: DateTime, to: DateTime): number[] {
  const out: number[] = [];
  for (let d = from; d < to; d = d.plus({ days: 1 }).startOf('day')) out.push(d.toMillis());
  return out;
}

/**
 * [from, to) as whole weeks; a week the range cuts is its days inside, or the week minus its days
 * outside when that is fewer pieces (5 or 6 days inside). Days at or after `limit` hold no views:
 * a week running into them needs nothing subtracted there.
 */
function splitWeeks(from: DateTime, to: DateTime, weekStart: WeekStart, out: Pieces, limit?: DateTime): void {
  for (let week = from.minus({ days: (from.weekday - weekStart + 7) % 7 }).startOf('day'); week < to; ) {
    const next = week.plus({ weeks: 1 }).startOf('day');
    const a = DateTime.max(week, from);
    const b = DateTime.min(next, to);
    const inside = daysOf(a, b);
    const outside = [...daysOf(week, a), ...daysOf(b, limit === undefined ? next : DateTime.min(next, limit))];
    if (outside.length === 0) out.weeks.push(week.toMillis());
    else if (1 + outside.length < inside.length) {
      out.weeks.push(week.toMillis());
      out.minus.days.push(...outside);
    } else out.days.push(...inside);
    week = next;
  }
}
