// The "views over time" card: chart, its CSV export, and the loading, empty and error states.
import type { ComponentChildren } from 'preact';
import { useMemo } from 'preact/hooks';
import type { Granularity, TimeseriesResponse } from '../api';
import { csvFilename, downloadCsv, toCsv } from '../csv';
import { formatCount, formatPeriod, formatTick } from '../format';
import { seriesOf, seriesRows } from '../series';
import { EmptyState, ErrorState } from './States';
import { ViewsChart } from './ViewsChart';

interface Props {
  /** The timeseries answer; may still be the previous one while the next loads. */
  data: TimeseriesResponse | undefined;
  /** Granularity asked for, used for the heading until its answer arrives. */
  granularity: Granularity;
  /** Views in the chosen days (from the summary); undefined while unknown. */
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

  // Laid out from the answer's own interval, so a stale answer never takes the new heading.
  const series = useMemo(() => (data ? seriesOf(data) : undefined), [data]);

  const granularity = series?.granularity ?? props.granularity;
  const noun = PERIOD_NOUN[granularity];

  const exportCsv = () =>
    series && downloadCsv(csvFilename(`views-${series.granularity}`, props.fromDate, props.toDate), toCsv(['periodStart', 'views'], seriesRows(series)));

  let body: ComponentChildren;
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
      series.granularity === 'daily' || first === undefined || last === undefined ? rangeText : first === last ? tick(first) : `${tick(first)} – ${tick(last)}`;
    const peak = series.views.indexOf(Math.max(...series.views));
    const peakAt = series.x[peak];
    const label =
      `Bar chart of views per ${noun}, ${rangeText}: ${formatCount(series.total)} views` +
      (peakAt === undefined ? '.' : `, most in ${formatPeriod(peakAt, series.granularity, series.timeZone)} (${formatCount(series.views[peak] ?? 0)}).`);
    body = (
      <>
        <ViewsChart series={series} granularity={series.granularity} timeZone={series.timeZone} label={label} idleLabel={span} total={series.total} />
        {series.clipped && (
          <p class="chart-note muted small" data-testid="chart-note">
            {noun[0]?.toUpperCase()}
            {noun.slice(1)}s that reach outside {rangeText} count only their days inside it.
          </p>
        )}
      </>
    );
  }

  return (
    <section class="card chart-card" aria-labelledby="chart-heading">
      <div class="card-head">
        <h2 id="chart-heading">Views per {noun}</h2>
        <button type="button" class="button button-small" onClick={exportCsv} disabled={!series || !total || Boolean(error)} data-testid="csv-export-chart">
          Export CSV
        </button>
      </div>
      {body}
    </section>
  );
}
