/**
 * Counts computed without the product's code: local calendar dates come from Intl, weeks and
 * months from plain day arithmetic on those dates. Keys are `local date of period start|region|page`.
 */
export interface RawEvent {
  timestamp: number;
  region: string;
  pageName: string;
}

export type Granularity = 'daily' | 'weekly' | 'monthly';

export function localYmd(instant: number, timeZone: string): [number, number, number] {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(instant));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  return [get('year'), get('month'), get('day')];
}

export function localTime(instant: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(instant));
}

const pad = (n: number): string => String(n).padStart(2, '0');
const ymd = (days: number): string => {
  const d = new Date(days * 86_400_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
};

/** `weekStart`: 1 = Monday … 7 = Sunday */
export function periodKey(instant: number, g: Granularity, timeZone: string, weekStart: number): string {
  const [y, m, d] = localYmd(instant, timeZone);
  if (g === 'monthly') return `${y}-${pad(m)}-01`;
  const days = Date.UTC(y, m - 1, d) / 86_400_000;
  if (g === 'daily') return ymd(days);
  const mondayBased = (days + 3) % 7; // 1970-01-01 was a Thursday: Monday → 0
  const back = (mondayBased - (weekStart - 1) + 7) % 7;
  return ymd(days - back);
}

export function expectedCounts(events: readonly RawEvent[], g: Granularity, timeZone: string, weekStart: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    const key = `${periodKey(e.timestamp, g, timeZone, weekStart)}|${e.region}|${e.pageName}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The API's rows in the same keys; also checks every periodStart is local midnight. */
export function apiCounts(rows: Array<{ periodStart: string; region: string; pageName: string; views: number }>, timeZone: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const instant = Date.parse(r.periodStart);
    if (localTime(instant, timeZone) !== '00:00:00') throw new Error(`periodStart ${r.periodStart} is not local midnight in ${timeZone}`);
    const [y, m, d] = localYmd(instant, timeZone);
    const key = `${y}-${pad(m)}-${pad(d)}|${r.region}|${r.pageName}`;
    if (counts.has(key)) throw new Error(`duplicate row ${key}`);
    counts.set(key, r.views);
  }
  return counts;
}
