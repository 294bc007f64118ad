import { describe, expect, it } from 'vitest';
import type { TimeseriesResponse } from './api';
import { seriesOf, seriesRows } from './series';

const response = (patch: Partial<TimeseriesResponse>): TimeseriesResponse => ({
  interval: 'day',
  timezone: 'UTC',
  startTime: '2026-11-01T00:00:00.000Z',
  endTime: '2026-11-04T00:00:00.000Z',
  points: [],
  ...patch,
});

describe('seriesOf', () => {
  it('turns points into ascending x and views, with their total', () => {
    const series = seriesOf(
      response({
        points: [
          { periodStart: '2026-11-02T00:00:00.000Z', views: 0 },
          { periodStart: '2026-11-01T00:00:00.000Z', views: 5 },
          { periodStart: '2026-11-03T00:00:00.000Z', views: 7 },
        ],
      }),
    );
    expect(series.granularity).toBe('daily');
    expect(series.x).toEqual([Date.parse('2026-11-01T00:00:00Z'), Date.parse('2026-11-02T00:00:00Z'), Date.parse('2026-11-03T00:00:00Z')]);
    expect(series.views).toEqual([5, 0, 7]);
    expect(series.total).toBe(12);
    expect(series.clipped).toBe(false);
    expect(seriesRows(series)).toEqual([
      ['2026-11-01T00:00:00.000Z', 5],
      ['2026-11-02T00:00:00.000Z', 0],
      ['2026-11-03T00:00:00.000Z', 7],
    ]);
  });

  it('an empty range is an empty series', () => {
    expect(seriesOf(response({ points: [] }))).toMatchObject({ x: [], views: [], total: 0, clipped: false });
  });

  it('weeks cut by the range are clipped; whole weeks are not', () => {
    // 1 Nov 2026 is a Sunday: its ISO week started on 26 October.
    const cut = seriesOf(
      response({
        interval: 'week',
        endTime: '2026-11-09T00:00:00.000Z',
        points: [
          { periodStart: '2026-10-26T00:00:00.000Z', views: 1 },
          { periodStart: '2026-11-02T00:00:00.000Z', views: 2 },
        ],
      }),
    );
    expect(cut.granularity).toBe('weekly');
    expect(cut.clipped).toBe(true);
    const whole = seriesOf(
      response({
        interval: 'week',
        startTime: '2026-11-02T00:00:00.000Z',
        endTime: '2026-11-16T00:00:00.000Z',
        points: [
          { periodStart: '2026-11-02T00:00:00.000Z', views: 1 },
          { periodStart: '2026-11-09T00:00:00.000Z', views: 2 },
        ],
      }),
    );
    expect(whole.clipped).toBe(false);
  });

  it('a month that runs past the end of the range is clipped, in the report zone', () => {
    const berlin = (patch: Partial<TimeseriesResponse>) =>
      seriesOf(response({ interval: 'month', timezone: 'Europe/Berlin', startTime: '2026-09-30T22:00:00.000Z', ...patch }));
    const points = [
      { periodStart: '2026-09-30T22:00:00.000Z', views: 3 },
      { periodStart: '2026-10-31T23:00:00.000Z', views: 4 },
    ];
    expect(berlin({ endTime: '2026-11-30T23:00:00.000Z', points }).clipped).toBe(false);
    expect(berlin({ endTime: '2026-11-15T23:00:00.000Z', points }).clipped).toBe(true);
    expect(berlin({ endTime: '2026-11-30T23:00:00.000Z', points }).granularity).toBe('monthly');
  });
});
