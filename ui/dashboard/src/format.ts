// Display formatting: numbers, percentages, region names and dates, in the browser's locale.
import type { Granularity } from './api';
import type { DateRange } from './ranges';
import { lastDay } from './ranges';

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

export const formatCount = (n: number): string => integer.format(n);
export const formatCompact = (n: number): string => (Math.abs(n) < 10_000 ? integer.format(n) : compact.format(n));

/** Percentage change from `previous` to `current`; null when there is nothing to compare with. */
export function percentChange(current: number, previous: number): number | null {
  if (previous === 0) return null;
  return ((current - previous) / previous) * 100;
}

const percent = new Intl.NumberFormat(undefined, {
  style: 'percent',
  signDisplay: 'exceptZero',
  maximumFractionDigits: 1,
});

/** "+12.5%", "−3%", "0%". `change` is in percent. */
export const formatChange = (change: number): string => percent.format(Math.abs(change) >= 10 ? Math.round(change) / 100 : change / 100);

let regionNames: Intl.DisplayNames | null | undefined;

function countryName(code: string): string | undefined {
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(undefined, { type: 'region' });
    } catch {
      regionNames = null;
    }
  }
  try {
    // ZZ is CLDR's "Unknown Region"; other unknown codes come back unchanged (or throw).
    if (code.toUpperCase() === 'ZZ') return undefined;
    const name = regionNames?.of(code.toUpperCase());
    return name && name.toUpperCase() !== code.toUpperCase() ? name : undefined;
  } catch {
    return undefined;
  }
}

/** "Germany" for DE, "Germany (BY)" for DE-BY, "Unknown" for unknown; the code when in doubt. */
export function regionName(code: string): string {
  if (code === 'unknown') return 'Unknown';
  const [country = '', subdivision] = code.split('-', 2);
  const name = /^[A-Za-z]{2}$|^\d{3}$/.test(country) ? countryName(country) : undefined;
  if (!name) return code;
  return subdivision ? `${name} (${subdivision})` : name;
}

const dayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });

/** "1 Nov 2026 – 30 Nov 2026" for a local [start, end) range; one date for a single day. */
export function formatRange(range: DateRange): string {
  const last = lastDay(range);
  if (last.getTime() <= range.start.getTime()) return dayFormat.format(range.start);
  return dayFormat.formatRange(range.start, last);
}

const zonedDayFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * "1 Oct 2026 – 31 Oct 2026" for the instants [start, end) the server echoes, as days of its
 * report time zone (the browser's own zone could put the edges on other dates).
 */
export function formatZonedRange(startIso: string, endIso: string, timeZone: string): string {
  const start = Date.parse(startIso);
  const last = Date.parse(endIso) - 1;
  if (!Number.isFinite(start) || !Number.isFinite(last)) return '';
  let format = zonedDayFormats.get(timeZone);
  if (!format) {
    const options: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', year: 'numeric' };
    try {
      format = new Intl.DateTimeFormat(undefined, { ...options, timeZone });
    } catch {
      format = new Intl.DateTimeFormat(undefined, { ...options, timeZone: 'UTC' });
    }
    zonedDayFormats.set(timeZone, format);
  }
  const first = format.format(start);
  return last <= start || format.format(last) === first ? first : format.formatRange(start, last);
}

const periodFormats = new Map<string, Intl.DateTimeFormat>();

/** Label of a period that starts at `ms`, in the server's report time zone. */
export function formatPeriod(ms: number, granularity: Granularity, timeZone: string): string {
  const key = `${granularity}|${timeZone}`;
  let format = periodFormats.get(key);
  if (!format) {
    const options: Intl.DateTimeFormatOptions =
      granularity === 'monthly' ? { month: 'long', year: 'numeric' } : { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' };
    try {
      format = new Intl.DateTimeFormat(undefined, { ...options, timeZone });
    } catch {
      format = new Intl.DateTimeFormat(undefined, { ...options, timeZone: 'UTC' });
    }
    periodFormats.set(key, format);
  }
  const label = format.format(ms);
  return granularity === 'weekly' ? `Week of ${label}` : label;
}

const tickFormats = new Map<string, Intl.DateTimeFormat>();

/** Short axis label: "30 Oct" for days and weeks, "Nov 2026" for months. */
export function formatTick(ms: number, granularity: Granularity, timeZone: string): string {
  const key = `${granularity === 'monthly'}|${timeZone}`;
  let format = tickFormats.get(key);
  if (!format) {
    const options: Intl.DateTimeFormatOptions = granularity === 'monthly' ? { month: 'short', year: 'numeric' } : { day: 'numeric', month: 'short' };
    try {
      format = new Intl.DateTimeFormat(undefined, { ...options, timeZone });
    } catch {
      format = new Intl.DateTimeFormat(undefined, { ...options, timeZone: 'UTC' });
    }
    tickFormats.set(key, format);
  }
  return format.format(ms);
}

export const formatTime = (ms: number): string => new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' }).format(ms);
