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
