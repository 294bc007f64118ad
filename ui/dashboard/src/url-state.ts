// The dashboard's filters live in the query string, so a URL is shareable and Back works.
import type { Granularity } from './api';
import { customRange, DEFAULT_PRESET, isPreset, presetRange, type DateRange, type Preset } from './ranges';

export interface Filters {
  granularity: Granularity;
  preset: Preset;
  /** YYYY-MM-DD, inclusive; only with preset 'custom'. */
  from?: string;
  to?: string;
  region?: string;
  page?: string;
}

export const GRANULARITIES: readonly Granularity[] = ['daily', 'weekly', 'monthly'];

export const DEFAULT_FILTERS: Filters = { granularity: 'daily', preset: DEFAULT_PRESET };

// Same rule as the ingest API, so a hand-edited URL cannot smuggle odd values into requests.
const REGION = /^[A-Za-z0-9_-]{1,32}$/;

export function parseFilters(search: string): Filters {
  const params = new URLSearchParams(search);
  const granularity = params.get('granularity');
  const range = params.get('range');
  const filters: Filters = {
    granularity: GRANULARITIES.find((g) => g === granularity) ?? DEFAULT_FILTERS.granularity,
    preset: isPreset(range) ? range : DEFAULT_PRESET,
  };
  if (filters.preset === 'custom') {
    const from = params.get('from') ?? undefined;
    const to = params.get('to') ?? undefined;
    if (customRange(from, to)) Object.assign(filters, { from, to });
    else filters.preset = DEFAULT_PRESET;
  }
  const region = params.get('region');
  if (region && REGION.test(region)) filters.region = region;
  const page = params.get('page');
  if (page && page.length <= 512) filters.page = page;
  return filters;
}

/** Query string with only the non-default filters, e.g. `?range=7d&region=DE`, or ''. */
export function serializeFilters(filters: Filters): string {
  const params = new URLSearchParams();
  if (filters.preset !== DEFAULT_FILTERS.preset) params.set('range', filters.preset);
  if (filters.preset === 'custom' && filters.from && filters.to) {
    params.set('from', filters.from);
    params.set('to', filters.to);
  }
  if (filters.granularity !== DEFAULT_FILTERS.granularity) params.set('granularity', filters.granularity);
  if (filters.region) params.set('region', filters.region);
  if (filters.page) params.set('page', filters.page);
  const search = params.toString();
  return search ? `?${search}` : '';
}

export function rangeOf(filters: Filters, now: Date): DateRange {
  if (filters.preset === 'custom') {
    const range = customRange(filters.from, filters.to);
    if (range) return range;
  }
  return presetRange(filters.preset === 'custom' ? DEFAULT_PRESET : filters.preset, now);
}

export function pushFilters(filters: Filters): void {
  const search = serializeFilters(filters);
  if (search === location.search) return;
  history.pushState(null, '', `${location.pathname}${search}${location.hash}`);
}
