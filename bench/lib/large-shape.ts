import { createHash } from 'node:crypto';

/**
 * The large data set of issue 10: a site with thousands of pages and 100+ regions, popularity
 * skewed in both (Zipf-like), a year of days, only (day, region, page) with views stored.
 */
export interface LargeShape {
  label: string;
  regions: number;
  pages: number;
  days: number;
  /** Zipf exponents: weight of the k-th most popular key ∝ 1 / k^skew */
  regionSkew: number;
  pageSkew: number;
  /** expected page views of an average weekday at mid-year; sets how sparse the pairs are */
  viewsPerDay: number;
}

/** ~61,000 stored (region, page) pairs a day, as measured in the issue. */
export const FULL_SHAPE: LargeShape = {
  label: 'full',
  regions: 150,
  pages: 5_000,
  days: 365,
  regionSkew: 1.2,
  pageSkew: 1.0,
  viewsPerDay: 232_000,
};

/** The same shape, smaller, for `--quick`. */
export const QUICK_SHAPE: LargeShape = {
  label: 'quick',
  regions: 40,
  pages: 600,
  days: 365,
  regionSkew: 1.2,
  pageSkew: 1.0,
  viewsPerDay: 40_000,
};

/** Bumped whenever the generated rows change, so a cached data set of an older generator is rebuilt. */
export const GENERATOR_VERSION = 2;

/** The biggest markets first, then the other ISO 3166 codes in alphabetical order. */
const TOP_REGIONS = ['US', 'IN', 'DE', 'GB', 'BR', 'FR', 'JP', 'CA', 'ES', 'IT', 'NL', 'PL', 'AU', 'MX', 'ID', 'KR', 'TR', 'SE', 'CH', 'AT'];

export function regionCodes(count: number): string[] {
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  const all: string[] = [];
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      try {
        if (names.of(code) !== code) all.push(code);
      } catch {
        // not a region code
      }
    }
  }
  const codes = [...TOP_REGIONS, ...all.filter((c) => !TOP_REGIONS.includes(c))].slice(0, count);
  if (codes.length < count) throw new Error(`only ${codes.length} region codes available, ${count} asked`);
  return codes;
}

const SECTIONS = ['blog', 'docs', 'products', 'news', 'help', 'de/hilfe', 'ja/ドキュメント', 'pricing', 'Careers', 'events', 'fr/guides', 'compare'];
const WORDS = ['getting-started', 'release-notes', 'über-uns', 'how-to', 'api', 'faq', "o'brien", 'a b,c=d', 'case-study', 'tutorial', 'changelog', 'ページ'];

/** Page paths: `/` first, then paths across sections, some with characters that need escaping. */
export function pageNames(count: number): string[] {
  return Array.from({ length: count }, (_, p) =>
    p === 0 ? '/' : `/${SECTIONS[p % SECTIONS.length]}/${WORDS[Math.floor(p / SECTIONS.length) % WORDS.length]}-${p}`,
  );
}

/**
 * Popularity rank of the i-th key: a fixed permutation (multiplier coprime with n), so the most
 * viewed pages are spread over sections and the key order says nothing about the view order.
 */
export function rank(i: number, n: number, multiplier: number): number {
  return (i * multiplier) % n;
}

/** Zipf weights by rank, summing to 1. */
export function zipfWeights(n: number, skew: number, multiplier: number): number[] {
  const raw = Array.from({ length: n }, (_, i) => (rank(i, n, multiplier) + 1) ** -skew);
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / sum);
}

export const REGION_MULTIPLIER = 1; // the region list is already in popularity order
export const PAGE_MULTIPLIER = 1_237; // prime, coprime with any page count here

/** What identifies a generated data set (whatever days it holds): the cache key stored next to it. */
export function shapeKey(shape: LargeShape): string {
  const names = createHash('sha256')
    .update(JSON.stringify([regionCodes(shape.regions), pageNames(shape.pages)]))
    .digest('hex')
    .slice(0, 16);
  return JSON.stringify({ generator: GENERATOR_VERSION, ...shape, names });
}
