// Periods as the server counts them: days, weeks and months in its report time zone (which may
// differ from the browser's). Used to lay out every period of the chart, including empty ones.
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
 * Start instants (ms) of every period of `granularity` that overlaps [start, end), matching the
 * API's `periodStart`. weekStart: 0 = Sunday, 1 = Monday, … (7 is read as Sunday too).
 */
export function periodStarts(
  granularity: Granularity,
  timeZoneName: string,
  weekStart: number,
  start: Date,
  end: Date,
  limit = 5000,
): number[] {
  const timeZone = validTimeZone(timeZoneName);
  let date = civilDate(timeZone, start.getTime());
  if (granularity === 'weekly') {
    const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
    date = shift(date, -((weekday - (weekStart % 7) + 7) % 7));
  } else if (granularity === 'monthly') {
    date = { ...date, day: 1 };
  }
  const starts: number[] = [];
  for (let t = midnight(timeZone, date); t < end.getTime() && starts.length < limit; t = midnight(timeZone, date)) {
    starts.push(t);
    date = granularity === 'daily' ? shift(date, 1) : granularity === 'weekly' ? shift(date, 7) : shift(date, 0, 1);
  }
  return starts;
}

export const browserTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;
