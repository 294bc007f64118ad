// Periods as the server counts them: days, weeks and months in its report time zone (which may
// differ from the browser's). Used to tell whether a chart bar covers its whole period.
import type { Granularity } from './api';

interface CivilDate {
  year: number;
  month: number; // 1-12
  day: number;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = partsFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partsFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock time in `timeZone` at instant `ms`, encoded as if it were UTC. */
function wallClock(timeZone: string, ms: number): number {
  const parts: Record<string, number> = {};
  for (const part of partsFormatter(timeZone).formatToParts(ms)) parts[part.type] = Number(part.value);
  return Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day, parts.hour, parts.minute, parts.second);
}

function civilDate(timeZone: string, ms: number): CivilDate {
  const wall = new Date(wallClock(timeZone, ms));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/** The instant of midnight starting `date` in `timeZone`. */
function midnight(timeZone: string, date: CivilDate): number {
  const guess = Date.UTC(date.year, date.month - 1, date.day);
  // The offset at the guess can differ from the offset at the answer when a DST switch lies
  // between them; a second pass with the answer's own offset settles it.
  const first = guess - (wallClock(timeZone, guess) - guess);
  const offset = wallClock(timeZone, first) - first;
  return guess - offset;
}

/** Date.UTC normalises overflowing days and months (32 Jan → 1 Feb). */
function shift(date: CivilDate, days: number, months = 0): CivilDate {
  const d = new Date(Date.UTC(date.year, date.month - 1 + months, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function validTimeZone(timeZone: string): string {
  try {
    partsFormatter(timeZone);
    return timeZone;
  } catch {
    return 'UTC';
  }
}

/**
 * End (exclusive) of the period of `granularity` that starts at the instant `start`, in
 * `timeZone`: the next midnight, the midnight a week later, or the first of the next month.
 * Counted on the calendar, so a day across a DST switch is 23 or 25 hours long.
 */
export function periodEnd(granularity: Granularity, timeZoneName: string, start: number): number {
  const timeZone = validTimeZone(timeZoneName);
  const date = civilDate(timeZone, start);
  const next = granularity === 'daily' ? shift(date, 1) : granularity === 'weekly' ? shift(date, 7) : shift({ ...date, day: 1 }, 0, 1);
  return midnight(timeZone, next);
}

export const browserTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;
