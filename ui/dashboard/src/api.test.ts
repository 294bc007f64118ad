import { describe, expect, it } from 'vitest';
import { breakdownCsvUrl, breakdownUrl, realtimeUrl, summaryUrl, timeseriesUrl, type RangeQuery } from './api';

const q: RangeQuery = { from: '2026-11-01', to: '2026-11-30' };
const params = (url: string) => Object.fromEntries(new URL(url, 'http://x').searchParams);

describe('API URLs', () => {
  it('send the days as bare dates, and only the filters that are set', () => {
    expect(summaryUrl(q)).toBe('/aggregated-data/summary?startTime=2026-11-01&endTime=2026-11-30');
    expect(params(summaryUrl({ ...q, region: 'DE', pageName: '/a "b",c&d=ü' }))).toEqual({
      startTime: '2026-11-01',
      endTime: '2026-11-30',
      region: 'DE',
      pageName: '/a "b",c&d=ü',
    });
  });

  it('the chart asks for its interval', () => {
    expect(params(timeseriesUrl('daily', q)).interval).toBe('day');
    expect(params(timeseriesUrl('weekly', q)).interval).toBe('week');
    expect(timeseriesUrl('monthly', q)).toBe('/aggregated-data/timeseries?interval=month&startTime=2026-11-01&endTime=2026-11-30');
  });

  it('a breakdown page has a limit, an offset after the first page and an optional search', () => {
    expect(breakdownUrl('page', q, { limit: 10 })).toBe('/aggregated-data/breakdown?by=page&startTime=2026-11-01&endTime=2026-11-30&limit=10');
    expect(params(breakdownUrl('region', { ...q, pageName: '/' }, { search: 'de', limit: 50, offset: 10 }))).toEqual({
      by: 'region',
      startTime: '2026-11-01',
      endTime: '2026-11-30',
      pageName: '/',
      search: 'de',
      limit: '50',
      offset: '10',
    });
    expect(params(breakdownUrl('page', q, { search: '' }))).not.toHaveProperty('search');
  });

  it('CSV export is the server streaming every matching row', () => {
    expect(params(breakdownCsvUrl('page', q, 'blog'))).toEqual({ by: 'page', startTime: '2026-11-01', endTime: '2026-11-30', search: 'blog', format: 'csv' });
    expect(params(breakdownCsvUrl('region', q))).not.toHaveProperty('limit');
  });

  it('realtime asks for the per-minute counts and top pages only', () => {
    expect(realtimeUrl(30)).toBe('/aggregated-data/realtime?minutes=30&rows=false');
  });
});
