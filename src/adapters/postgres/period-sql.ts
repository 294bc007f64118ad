import type { Granularity } from '../../domain/periods.js';

/**
 * SQL expressions that truncate an instant to the start (or end) of its period in a time zone.
 * `ts AT TIME ZONE zone` gives local wall-clock time; truncating that and converting back with
 * `AT TIME ZONE zone` gives the instant of local midnight, so 23- and 25-hour DST days come out right.
 * Weeks: date_trunc('week') is ISO (Monday); shifting by `shift` days first moves the week start
 * to any weekday (shift = (8 - weekStart) % 7, so Monday → 0, Sunday → 1).
 * `zone` and `shift` are SQL placeholders such as `$1`, never user text.
 */
export function localStart(granularity: Granularity, ts: string, zone: string, shift: string): string {
  const wall = `(${ts} AT TIME ZONE ${zone})`;
  switch (granularity) {
    case 'daily':
      return `(date_trunc('day', ${wall}) AT TIME ZONE ${zone})`;
    case 'weekly':
      return `((date_trunc('week', ${wall} + make_interval(days => ${shift})) - make_interval(days => ${shift})) AT TIME ZONE ${zone})`;
    case 'monthly':
      return `(date_trunc('month', ${wall}) AT TIME ZONE ${zone})`;
  }
}

const STEP: Record<Granularity, string> = { daily: `interval '1 day'`, weekly: `interval '7 days'`, monthly: `interval '1 month'` };

/** End of the period that starts at `start` (itself a period start). */
export function localEnd(granularity: Granularity, start: string, zone: string): string {
  return `(((${start} AT TIME ZONE ${zone}) + ${STEP[granularity]}) AT TIME ZONE ${zone})`;
}

export const TABLE: Record<Granularity, string> = {
  daily: 'region_daily',
  weekly: 'region_weekly',
  monthly: 'region_monthly',
};

export function weekShift(weekStart: number): number {
  return (8 - weekStart) % 7;
}
