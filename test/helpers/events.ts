import type { RawEvent } from './expected-counts.js';

/** Deterministic pseudo-random numbers so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 4_294_967_296;
  };
}

export const REGIONS = ['DE', 'US', 'GB', 'FR', 'DE-BY', 'unknown'];
/** Page names that must round-trip byte-exact through every store and the API. */
export const PAGES = [
  '/',
  '/pricing',
  '/docs/getting-started',
  '/blog/ünïcødé',
  '/a b,c=d',
  '/o\'brien"quote\\',
  'trailing\\',
  '/日本語/ページ',
  '/emoji/🎉',
  "'; DROP TABLE region_daily; --",
  '/regex/ =~ /.*/ AND "x"',
];

/** Boundaries the counts must get right: day, ISO week with week 1 starting in December, month, leap day, DST. */
export const BOUNDARIES = [
  '2024-02-28T23:00:00Z',
  '2024-02-29T12:00:00Z',
  '2024-03-01T00:00:00Z', // leap day
  '2024-03-31T01:00:00Z', // EU DST starts (Berlin day of 23 h)
  '2024-10-27T01:00:00Z', // EU DST ends (Berlin day of 25 h)
  '2024-11-03T06:00:00Z', // US DST ends
  '2024-12-29T23:00:00Z',
  '2024-12-30T00:00:00Z',
  '2025-01-01T00:00:00Z', // 2025-W01 begins Mon 2024-12-30
  '2025-06-30T22:00:00Z',
  '2025-07-01T00:00:00Z', // month + Berlin midnight
  '2025-12-28T23:00:00Z',
  '2025-12-29T00:00:00Z',
  '2026-01-01T00:00:00Z', // 2026-W01 begins Mon 2025-12-29
].map((t) => Date.parse(t));

export function generateEvents(count: number, seed: number): RawEvent[] {
  const random = rng(seed);
  const first = Date.parse('2024-02-20T00:00:00Z');
  const last = Date.parse('2026-01-10T00:00:00Z');
  const events: RawEvent[] = [];
  for (let i = 0; i < count; i++) {
    const near = BOUNDARIES[Math.floor(random() * BOUNDARIES.length)]!;
    const timestamp =
      random() < 0.75
        ? near + Math.round((random() - 0.5) * 2 * 30 * 3_600_000) // within ±30 h of a boundary
        : first + Math.floor(random() * (last - first));
    events.push({
      timestamp,
      region: REGIONS[Math.floor(random() * REGIONS.length)]!,
      pageName: PAGES[Math.floor(random() * PAGES.length)]!,
    });
  }
  // A few exactly on boundaries and one millisecond before them.
  for (const b of BOUNDARIES) {
    events.push({ timestamp: b, region: 'DE', pageName: '/' }, { timestamp: b - 1, region: 'DE', pageName: '/' });
  }
  return events;
}
