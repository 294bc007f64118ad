// Date-range presets, computed in the browser's local time. A range is [start, end) between
// local midnights; the API receives the instants (toISOString), so DST days simply are 23 or 25 h.

export const PRESETS = [
  { id: 'today', label: 'Today' },
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
  { id: 'this-month', label: 'This month' },
  { id: 'last-month', label: 'Last month' },
  { id: '12m', label: 'Last 12 months' },
  { id: 'custom', label: 'Custom range' },
] as const;

export type Preset = (typeof PRESETS)[number]['id'];

export const DEFAULT_PRESET = '30d' satisfies Preset;

export interface DateRange {
  start: Date;
  end: Date;
}

export const isPreset = (value: string | null): value is Preset => PRESETS.some((preset) => preset.id === value);

export const presetLabel = (preset: Preset): string => PRESETS.find((p) => p.id === preset)?.label ?? preset;

// Constructing from y/m/d lets Date roll over month and year ends and skip DST gaps.
export const addDays = (date: Date, days: number): Date => new Date(date.getFullYear(), date.getMonth(), date.getDate() + days);

const addMonths = (date: Date, months: number): Date => new Date(date.getFullYear(), date.getMonth() + months, 1);

export const startOfDay = (date: Date): Date => addDays(date, 0);

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Local calendar date as YYYY-MM-DD (what `<input type="date">` uses). */
export const toIsoDate = (date: Date): string => `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;

/** Parses YYYY-MM-DD as local midnight; null for anything that is not a real date. */
export function parseIsoDate(value: string | null | undefined): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value ?? '');
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(year, month - 1, day);
  // new Date(2026, 1, 31) silently becomes 3 March: reject instead.
  if (date.getFullYear() !== year || date.getMonth() !== month - 1 || date.getDate() !== day) return null;
  return date;
}

/** Days between two local midnights; rounding absorbs the DST hour. */
export const dayCount = (range: DateRange): number => Math.round((range.end.getTime() - range.start.getTime()) / 86_400_000);

/** The last calendar day inside the range (end is exclusive). */
export const lastDay = (range: DateRange): Date => addDays(range.end, -1);

export function customRange(from: string | undefined, to: string | undefined): DateRange | null {
  const a = parseIsoDate(from);
  const b = parseIsoDate(to);
  if (!a || !b) return null;
  const [first, last] = a <= b ? [a, b] : [b, a];
  return { start: first, end: addDays(last, 1) };
}

export function presetRange(preset: Exclude<Preset, 'custom'>, now: Date): DateRange {
  const today = startOfDay(now);
  const tomorrow = addDays(today, 1);
  switch (preset) {
    case 'today':
      return { start: today, end: tomorrow };
    case '7d':
      return { start: addDays(today, -6), end: tomorrow };
    case '30d':
      return { start: addDays(today, -29), end: tomorrow };
    case 'this-month':
      // Month to date: comparing a partial month with the days before it stays fair.
      return { start: addMonths(today, 0), end: tomorrow };
    case 'last-month':
      return { start: addMonths(today, -1), end: addMonths(today, 0) };
    case '12m':
      // Whole months, so the monthly chart starts with a complete first bucket.
      return { start: addMonths(today, -11), end: tomorrow };
  }
}

/** The period of the same number of days right before `range`. */
export function previousRange(range: DateRange): DateRange {
  return { start: addDays(range.start, -dayCount(range)), end: range.start };
}
