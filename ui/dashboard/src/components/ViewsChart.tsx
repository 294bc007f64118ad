// Views over time as a uPlot bar chart, sized to its container and labelled in the report time zone.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Granularity } from '../api';
import type { Series } from '../series';
import { formatCompact, formatCount, formatPeriod, formatTick } from '../format';

interface Props {
  series: Pick<Series, 'x' | 'views'>;
  granularity: Granularity;
  timeZone: string;
  /** Text alternative for screen readers. */
  label: string;
  /** Legend text while no bar is hovered, next to `total`. */
  idleLabel: string;
  total: number;
}

// Views are whole numbers: only whole-number steps on the y axis.
const COUNT_STEPS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8].map((p) => m * p)).sort((a, b) => a - b);

const heightFor = (width: number): number => (width < 500 ? 220 : 300);

function cssVar(element: Element, name: string, fallback: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || fallback;
}

function niceMax(max: number): number {
  if (max <= 0) return 4;
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil((max * 1.1) / step) * step;
}

export function ViewsChart({ series, granularity, timeZone, label, idleLabel, total }: Props) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    const bar = cssVar(element, '--chart-bar', '#6366f1');
    const muted = cssVar(element, '--muted', '#6b7280');
    const grid = cssVar(element, '--grid', '#e5e7eb');
    const font = `12px ${cssVar(element, '--font', 'system-ui, sans-serif')}`;
    const width = element.clientWidth;
    const labelSpace = granularity === 'monthly' ? 70 : 56;
    const axis: uPlot.Axis = { stroke: muted, font, grid: { stroke: grid, width: 1 }, ticks: { show: false } };

    const options: uPlot.Options = {
      width,
      height: heightFor(width),
      // uPlot draws time axes in the browser's zone unless told; periods are the server's.
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), timeZone),
      // Ordinal x (distr 2) gives every period an equal-width bar; its range is in bar indices,
      // and half a slot of room at each end keeps the outer bars whole.
      scales: {
        x: { time: true, distr: 2, range: (_u, min, max) => [min - 0.5, max + 0.5] },
        y: { range: (_u, _min, max) => [0, niceMax(max)] },
      },
      series: [
        {
          label: 'Period',
          value: (_u, seconds, _s, idx) => (idx == null || seconds == null ? idleLabel : formatPeriod(seconds * 1000, granularity, timeZone)),
        },
        {
          label: 'Views',
          stroke: bar,
          fill: bar,
          width: 0,
          paths: uPlot.paths.bars?.({ size: [0.7, 48], gap: 1 }),
          points: { show: false },
          value: (_u, views, _s, idx) => formatCount(idx == null || views == null ? total : views),
        },
      ],
      axes: [
        {
          ...axis,
          grid: { show: false },
          space: labelSpace,
          // With few bars, label every one (or every second, third… when the labels would
          // overlap, as twelve "Mar 2026" do on a phone) instead of letting uPlot pick uneven
          // ones. Ordinal splits are bar indices; uPlot maps them to x values before `values`.
          splits:
            series.x.length <= 14
              ? (u) => {
                  const slot = u.bbox.width / uPlot.pxRatio / series.x.length;
                  const every = Math.max(1, Math.ceil(labelSpace / slot));
                  return series.x.map((_ms, i) => i).filter((i) => i % every === 0);
                }
              : undefined,
          // A one-period scale has no real span; uPlot then hands out NaN splits.
          values: (_u, splits) => splits.map((seconds) => (Number.isFinite(seconds) ? formatTick(seconds * 1000, granularity, timeZone) : '')),
        },
        { ...axis, size: 48, incrs: COUNT_STEPS, values: (_u, splits) => splits.map(formatCompact) },
      ],
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
    };
    const data: uPlot.AlignedData = [series.x.map((ms) => ms / 1000), series.views];
    const chart = new uPlot(options, data, element);

    const resize = new ResizeObserver(() => {
      const next = element.clientWidth;
      if (next > 0 && next !== chart.width) chart.setSize({ width: next, height: heightFor(next) });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [series, granularity, timeZone, idleLabel, total]);

  // The canvas cannot be read back; these attributes say what it draws (for tests and tools).
  return (
    <div
      class="chart"
      ref={container}
      role="img"
      aria-label={label}
      data-testid="chart"
      data-granularity={granularity}
      data-period-starts={series.x.map((ms) => new Date(ms).toISOString()).join(',')}
      data-values={series.views.join(',')}
    />
  );
}
