// The "views over time" card: chart, its CSV export, and the loading, empty and error states.
import { useMemo } from 'preact/hooks';
import { totalViews, viewSeries } from '../aggregate';
import type { AggregatedResponse, Granularity } from '../api';
import { csvFilename, downloadCsv, toCsv } from '../csv';
import { formatCount, formatPeriod, formatTick } from '../format';
import { periodStarts } from '../periods';
import { EmptyState, ErrorState } from './States';
import { ViewsChart } from './ViewsChart';

interface Props {
  /** The chart's own response; may still be the previous one while the next loads. */
  data: AggregatedResponse | undefined;
  /** Granularity asked for, used for the heading until its answer arrives. */
  granularity: Granularity;
  weekStart: number;
  /** Views in the chosen days (daily rows); undefined while unknown. */
  total: number | undefined;
  error: unknown;
  onRetry: () => void;
  filtered: boolean;
  rangeText: string;
  fromDate: string;
  toDate: string;
}

const PERIOD_NOUN: Record<Granularity, string> = { daily: 'day', weekly: 'week', monthly: 'month' };

export function ChartCard(props: Props) {
  const { data, total, error, rangeText } = props;

  // Laid out from the response's own granularity and range, so a stale answer never lands on
  // the new periods while the next one loads.
  const series = useMemo(() => {
    if (!data) return undefined;
    const { granularity, timezone: timeZone } = data;
    const periods = periodStarts(granularity, timeZone, props.weekStart, new Date(data.startTime), new Date(data.endTime));
    return { granularity, timeZone, total: totalViews(data.rows), ...viewSeries(data.rows, periods) };
  }, [data, props.weekStart]);

  const granularity = series?.granularity ?? props.granularity;
  const noun = PERIOD_NOUN[granularity];

  const exportCsv = () =>
    series &&
    downloadCsv(
      csvFilename(`views-${series.granularity}`, props.fromDate, props.toDate),
      toCsv(['periodStart', 'views'], series.x.map((t, i) => [new Date(t).toISOString(), series.views[i] ?? 0])),
    );

  let body;
  if (error) {
    body = <ErrorState error={error} onRetry={props.onRetry} />;
  } else if (total === undefined || !series) {
    body = <div class="chart-placeholder">Loading…</div>;
  } else if (total === 0) {
    body = <EmptyState filtered={props.filtered} />;
  } else {
    const tick = (ms: number) => formatTick(ms, series.granularity, series.timeZone);
    const first = series.x[0];
    const last = series.x[series.x.length - 1];
    const span =
      series.granularity === 'daily' || first === undefined || last === undefined
        ? rangeText
        : first === last
          ? tick(first)
          : `${tick(first)} – ${tick(last)}`;
    const peak = series.views.indexOf(Math.max(...series.views));
    const peakAt = series.x[peak];
    const label =
      `Bar chart of views per ${noun}, ${rangeText}: ${formatCount(series.total)} views` +
      (peakAt === undefined
        ? '.'
        : `, most in ${formatPeriod(peakAt, series.granularity, series.timeZone)} (${formatCount(series.views[peak] ?? 0)}).`);
    body = (
      <>
        <ViewsChart
          series={series}
          granularity={series.granularity}
          timeZone={series.timeZone}
          label={label}
          idleLabel={span}
          total={series.total}
        />
        {/* Weeks and months are charted whole, so the edge bars can hold days outside the range. */}
        {series.granularity !== 'daily' && series.total !== total && (
          <p class="chart-note muted small">
            Whole {noun}s are shown, so the first and last bars can include days outside {rangeText}. The totals
            above count only those days.
          </p>
        )}
      </>
    );
  }

  return (
    <section class="card chart-card" aria-labelledby="chart-heading">
      <div class="card-head">
        <h2 id="chart-heading">Views per {noun}</h2>
        <button
          type="button"
          class="button button-small"
          onClick={exportCsv}
          disabled={!series || !total || Boolean(error)}
          data-testid="csv-export-chart"
        >
          Export CSV
        </button>
      </div>
      {body}
    </section>
  );
}
