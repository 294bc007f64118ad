import { describe, expect, it } from 'vitest';
import type { BreakdownResponse } from './api';
import { combinePages, countLabel, shareLabel, sharePercent } from './breakdown-rows';

const page = (rows: [string, number][], total: number, distinct: number): BreakdownResponse => ({
  by: 'page',
  startTime: '2026-11-01T00:00:00.000Z',
  endTime: '2026-12-01T00:00:00.000Z',
  total,
  distinct,
  rows: rows.map(([key, views]) => ({ key, views })),
  others: total - rows.reduce((sum, [, views]) => sum + views, 0),
});

describe('combinePages', () => {
  it('nothing loaded yet is nothing to show', () => {
    expect(combinePages([])).toBeUndefined();
  });

  it('one page: its rows, and the rest as Others', () => {
    const table = combinePages([
      page(
        [
          ['/', 50],
          ['/a', 30],
        ],
        100,
        5,
      ),
    ]);
    expect(table).toEqual({
      rows: [
        { key: '/', views: 50 },
        { key: '/a', views: 30 },
      ],
      total: 100,
      distinct: 5,
      others: 20,
      hidden: 3,
      hasMore: true,
    });
  });

  it('Show more appends the next rows; when all are shown there are no Others', () => {
    const table = combinePages([
      page(
        [
          ['/', 50],
          ['/a', 30],
        ],
        100,
        4,
      ),
      page(
        [
          ['/b', 15],
          ['/c', 5],
        ],
        100,
        4,
      ),
    ]);
    expect(table?.rows.map((r) => r.key)).toEqual(['/', '/a', '/b', '/c']);
    expect(table).toMatchObject({ others: 0, hidden: 0, hasMore: false });
  });

  it('a key that moved across pages between requests is shown once, and totals are the newest', () => {
    const table = combinePages([
      page(
        [
          ['/', 50],
          ['/a', 30],
        ],
        100,
        4,
      ),
      page(
        [
          ['/a', 31],
          ['/b', 15],
        ],
        101,
        4,
      ),
    ]);
    expect(table?.rows).toEqual([
      { key: '/', views: 50 },
      { key: '/a', views: 30 },
      { key: '/b', views: 15 },
    ]);
    expect(table).toMatchObject({ total: 101, others: 6, hidden: 1, hasMore: true });
  });

  it('a Show more that brings nothing back ends the list', () => {
    const table = combinePages([page([['/', 50]], 60, 3), page([], 60, 3)]);
    expect(table).toMatchObject({ hidden: 2, others: 10, hasMore: false });
  });

  it('no rows at all (a search without matches)', () => {
    expect(combinePages([page([], 0, 0)])).toMatchObject({ rows: [], others: 0, hidden: 0, hasMore: false });
  });
});

describe('labels', () => {
  it('counts with the right noun', () => {
    expect(countLabel(1, 'page')).toBe('1 page');
    expect(countLabel(0, 'region')).toBe('0 regions');
    expect(countLabel(1234, 'page')).toBe(`${(1234).toLocaleString()} pages`);
  });

  it('shares', () => {
    expect(shareLabel(1, 8)).toBe('12.5%');
    expect(shareLabel(1, 10_000)).toBe('<0.1%');
    expect(shareLabel(0, 10)).toBe('0.0%');
    expect(shareLabel(3, 0)).toBe('0.0%');
    expect(sharePercent(5, 4)).toBe(100);
  });
});
