// The chart's data: the timeseries answer as parallel arrays, plus whether its edge bars are cut.
import { GRANULARITY_OF, type Granularity, type TimeseriesResponse } from './api';
import { periodEnd } from './periods';

export interface Series {
  granularity: Granularity;
  timeZone: string;
  /** Period starts, epoch ms, ascending. */
  x: number[];
  views: number[];
  total: number;
  /**
   * The first bar's period starts before the range or the last one ends after it. The server
   * then counts only the days inside the range, so such a bar is not a whole week or month.
   */
  clipped: boolean;
}

export function seriesOf(response: TimeseriesResponse): Series {
  const granularity = GRANULARITY_OF[response.interval] ?? 'daily';
  const timeZone = response.timezone;
  const points = response.points
    .map((point) => ({ t: Date.parse(point.periodStart), views: point.views }))
    .filter((point) => Number.isFinite(point.t))
    .sort((a, b) => a.t - b.t);
  const x = points.map((point) => point.t);
  const views = points.map((point) => point.views);
  const first = x[0];
  const last = x[x.length - 1];
  const start = Date.parse(response.startTime);
  const end = Date.parse(response.endTime);
  const clipped = first !== undefined && last !== undefined && (first < start || periodEnd(granularity, timeZone, last) > end);
  return { granularity, timeZone, x, views, total: views.reduce((sum, n) => sum + n, 0), clipped };
}

/** The chart's CSV (a few hundred rows at most, so built here): period start and views. */
export const seriesRows = (series: Series): [string, number][] => series.x.map((t, i) => [new Date(t).toISOString(), series.views[i] ?? 0]);
