import { describe, expect, it } from 'vitest';
import { lastDay, PRESETS, toIsoDate } from './ranges';
import { DEFAULT_FILTERS, GRANULARITIES, parseFilters, rangeOf, serializeFilters, type Filters } from './url-state';

describe('URL state', () => {
  it('an empty query string is the default view, and the default view is an empty query string', () => {
    expect(parseFilters('')).toEqual(DEFAULT_FILTERS);
    expect(serializeFilters(DEFAULT_FILTERS)).toBe('');
  });

  it('round-trips every filter in a stable order', () => {
    const filters: Filters = { granularity: 'weekly', preset: 'custom', from: '2026-11-01', to: '2026-11-30', region: 'DE-BY', page: '/a "quoted",page?&#' };
    const search = serializeFilters(filters);
    expect(search).toBe('?range=custom&from=2026-11-01&to=2026-11-30&granularity=weekly&region=DE-BY&page=%2Fa+%22quoted%22%2Cpage%3F%26%23');
    expect(parseFilters(search)).toEqual(filters);
    expect(serializeFilters({ ...DEFAULT_FILTERS, preset: '7d', granularity: 'weekly', region: 'DE' })).toBe('?range=7d&granularity=weekly&region=DE');
  });

  it('keeps Unicode page names exact', () => {
    const filters: Filters = { ...DEFAULT_FILTERS, page: '/blog/ünïcødé 🎉' };
    expect(parseFilters(serializeFilters(filters))).toEqual(filters);
  });

  it('drops values a hand-edited URL should not carry', () => {
    expect(parseFilters('?granularity=hourly&range=forever')).toEqual(DEFAULT_FILTERS);
    expect(parseFilters('?region=DE%20OR%201%3D1').region).toBeUndefined();
    expect(parseFilters(`?page=${'x'.repeat(513)}`).page).toBeUndefined();
    // A custom range without valid dates falls back to the default preset.
    expect(parseFilters('?range=custom&from=2026-02-30&to=2026-03-01')).toEqual(DEFAULT_FILTERS);
    expect(parseFilters('?range=7d&from=2026-01-01&to=2026-01-02')).toEqual({ ...DEFAULT_FILTERS, preset: '7d' });
  });

  it('round-trips every preset and granularity', () => {
    for (const preset of PRESETS.map((p) => p.id)) {
      for (const granularity of GRANULARITIES) {
        const filters: Filters = { granularity, preset, ...(preset === 'custom' ? { from: '2026-02-28', to: '2026-03-29' } : {}) };
        expect(parseFilters(serializeFilters(filters))).toEqual(filters);
      }
    }
  });

  it('drops empty, oversized, odd-cased and half-given values', () => {
    expect(parseFilters('?region=&page=')).toEqual(DEFAULT_FILTERS);
    expect(parseFilters(`?region=${'A'.repeat(33)}`).region).toBeUndefined();
    expect(parseFilters(`?region=${'A'.repeat(32)}`).region).toBe('A'.repeat(32));
    expect(parseFilters('?region=DE%00').region).toBeUndefined();
    expect(parseFilters(`?page=${'x'.repeat(512)}`).page).toBe('x'.repeat(512));
    expect(parseFilters('?granularity=WEEKLY&range=7D')).toEqual(DEFAULT_FILTERS);
    expect(parseFilters('?range=custom&from=2026-03-01')).toEqual(DEFAULT_FILTERS);
    expect(parseFilters('?range=custom&from=2026-3-1&to=2026-03-31')).toEqual(DEFAULT_FILTERS);
    // a repeated parameter: the first one counts
    expect(parseFilters('?region=DE&region=FR&granularity=monthly&granularity=weekly')).toEqual({ ...DEFAULT_FILTERS, region: 'DE', granularity: 'monthly' });
  });

  it('a custom range given backwards keeps its URL and covers the same days', () => {
    const filters = parseFilters('?range=custom&from=2026-11-30&to=2026-11-01');
    expect(filters).toEqual({ ...DEFAULT_FILTERS, preset: 'custom', from: '2026-11-30', to: '2026-11-01' });
    const range = rangeOf(filters, new Date(2026, 10, 15));
    expect([toIsoDate(range.start), toIsoDate(lastDay(range))]).toEqual(['2026-11-01', '2026-11-30']);
  });

  it('turns the filters into days', () => {
    const now = new Date(2026, 10, 15, 9);
    const custom = rangeOf({ ...DEFAULT_FILTERS, preset: 'custom', from: '2026-10-01', to: '2026-10-31' }, now);
    expect([toIsoDate(custom.start), toIsoDate(lastDay(custom))]).toEqual(['2026-10-01', '2026-10-31']);
    const thirty = rangeOf(DEFAULT_FILTERS, now);
    expect([toIsoDate(thirty.start), toIsoDate(lastDay(thirty))]).toEqual(['2026-10-17', '2026-11-15']);
  });
});
