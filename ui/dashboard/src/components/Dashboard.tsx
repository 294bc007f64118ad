// The signed-in dashboard: reads filters from the URL, loads the numbers and lays out the panels.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { breakdown, totalViews } from '../aggregate';
import {
  aggregatedUrl,
  botsUrl,
  isUnauthorized,
  regionsUrl,
  type AggregatedResponse,
  type BotsResponse,
  type RegionsResponse,
  type Session,
} from '../api';
import { csvFilename, downloadCsv, toCsv } from '../csv';
import { formatCount, formatRange, regionName } from '../format';
import { browserTimeZone } from '../periods';
import { lastDay, presetLabel, previousRange, toIsoDate } from '../ranges';
import { parseFilters, pushFilters, rangeOf, type Filters as FilterState } from '../url-state';
import { clearJsonCache, useJson } from '../use-json';
import { BreakdownTable } from './BreakdownTable';
import { ChartCard } from './ChartCard';
import { Filters } from './Filters';
import { Realtime } from './Realtime';
import { Summary } from './Summary';

interface Props {
  session: Session;
  onSignOut: () => void;
  onSessionExpired: () => void;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function Dashboard({ session, onSignOut, onSessionExpired }: Props) {
  const [filters, setFilters] = useState(() => parseFilters(location.search));
  const [reloadKey, setReloadKey] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
    const onPopState = () => setFilters(parseFilters(location.search));
    window.addEventListener('popstate', onPopState);
    return () => window.removeEventListener('popstate', onPopState);
  }, []);

  const update = (patch: Partial<FilterState>) => {
    const next = { ...filters, ...patch };
    pushFilters(next);
    setFilters(next);
  };

  const retry = useCallback(() => {
    clearJsonCache();
    setReloadKey((key) => key + 1);
  }, []);

  // reloadKey is a dependency on purpose: "Try again" also moves "today" forward.
  const range = useMemo(() => rangeOf(filters, new Date()), [filters, reloadKey]);
  const previous = useMemo(() => previousRange(range), [range]);
  const query = { start: range.start, end: range.end, region: filters.region, pageName: filters.page };

  // Totals and tables come from daily rows so they cover exactly the chosen days whatever the
  // chart's interval; with a daily chart both requests share one URL and one fetch.
  const current = useJson<AggregatedResponse>(aggregatedUrl('daily', query), reloadKey);
  const chart = useJson<AggregatedResponse>(aggregatedUrl(filters.granularity, query), reloadKey);
  const before = useJson<AggregatedResponse>(aggregatedUrl('daily', { ...query, ...previous }), reloadKey);
  const bots = useJson<BotsResponse>(botsUrl(query), reloadKey);
  const regions = useJson<RegionsResponse>(regionsUrl, reloadKey);

  const expired = [current, chart, before, bots, regions].some((s) => isUnauthorized(s.error));
  useEffect(() => {
    if (expired) onSessionExpired();
  }, [expired, onSessionExpired]);

  const error = current.error ?? chart.error;
  const loading = current.loading || chart.loading;
  const rows = error ? undefined : current.data?.rows;
  const total = useMemo(() => rows && totalViews(rows), [rows]);
  const pages = useMemo(() => (rows ? breakdown(rows, 'pageName') : []), [rows]);
  const regionEntries = useMemo(() => (rows ? breakdown(rows, 'region') : []), [rows]);
  const previousRows = before.error ? undefined : before.data?.rows;
  const previousTotal = useMemo(() => previousRows && totalViews(previousRows), [previousRows]);
  const timeZone = current.data?.timezone ?? session.timezone;

  const rangeText = formatRange(range);
  const fromDate = toIsoDate(range.start);
  const toDate = toIsoDate(lastDay(range));
  const filtered = Boolean(filters.region || filters.page);

  useEffect(() => {
    document.title = `${presetLabel(filters.preset)} · page-stats`;
  }, [filters.preset]);

  const exportPages = () =>
    downloadCsv(csvFilename('pages', fromDate, toDate), toCsv(['page', 'views'], pages.map((e) => [e.key, e.views])));
  const exportRegions = () =>
    downloadCsv(
      csvFilename('regions', fromDate, toDate),
      toCsv(['region', 'name', 'views'], regionEntries.map((e) => [e.key, regionName(e.key), e.views])),
    );

  let status = '';
  if (loading) status = 'Loading page views…';
  else if (!error && total !== undefined) status = `${formatCount(total)} views, ${rangeText}.`;
  const browserZone = browserTimeZone();

  return (
    <div class="layout">
      <header class="topbar">
        <div class="topbar-inner">
          <span class="brand">
            <span class="brand-mark" aria-hidden="true" />
            page-stats
          </span>
          <button type="button" class="button button-ghost" onClick={onSignOut} data-testid="logout">
            Sign out
          </button>
        </div>
        {loading && <div class="progress" aria-hidden="true" />}
      </header>
      <main class="content" aria-busy={loading}>
        <div class="page-head">
          <h1 ref={heading} tabIndex={-1}>
            Page views
          </h1>
          <p class="muted">
            {presetLabel(filters.preset)} · {rangeText}
            {filters.region ? ` · ${regionName(filters.region)}` : ''}
          </p>
        </div>
        <Filters filters={filters} range={range} regions={regions.data?.regions ?? []} onChange={update} />
        {filters.page && (
          <p class="active-filter">
            <span>
              Page <code>{filters.page}</code>
            </span>
            <button type="button" class="chip-clear" onClick={() => update({ page: undefined })} aria-label="Clear page filter">
              ×
            </button>
          </p>
        )}
        <p class="sr-only" role="status" aria-live="polite">
          {status}
        </p>
        <Summary
          total={total}
          previousTotal={previousTotal}
          previousRange={previous}
          pageCount={rows ? pages.length : undefined}
          topPage={pages[0]?.key}
          botHits={bots.error ? undefined : bots.data?.total}
          regionFiltered={Boolean(filters.region)}
        />
        <div class={`grid-main${loading ? ' is-loading' : ''}`}>
          <ChartCard
            data={chart.data}
            granularity={filters.granularity}
            weekStart={session.weekStart}
            total={total}
            error={expired ? undefined : error}
            onRetry={retry}
            filtered={filtered}
            rangeText={rangeText}
            fromDate={fromDate}
            toDate={toDate}
          />
          <Realtime onSessionExpired={onSessionExpired} />
        </div>
        {total ? (
          <div class={`grid-tables${loading ? ' is-loading' : ''}`}>
            <BreakdownTable
              title="Pages"
              caption={`Views per page, ${rangeText}, most viewed first. Select a page to show only its views.`}
              keyHeader="Page"
              entries={pages}
              rowKeyAttribute="data-page"
              testId="pages-table"
              exportTestId="csv-export"
              onExport={exportPages}
              renderKey={(key) => key}
              onSelect={filters.page ? undefined : (page) => update({ page })}
              selectLabel={(key) => `Show only ${key}`}
            />
            <BreakdownTable
              title="Regions"
              caption={`Views per region, ${rangeText}, most viewed first. Select a region to show only its views.`}
              keyHeader="Region"
              entries={regionEntries}
              rowKeyAttribute="data-region"
              testId="regions-table"
              exportTestId="csv-export-regions"
              onExport={exportRegions}
              renderKey={(key) => (
                <>
                  {regionName(key)}
                  {regionName(key).toLowerCase() !== key.toLowerCase() && <span class="code">{key}</span>}
                </>
              )}
              onSelect={filters.region ? undefined : (region) => update({ region })}
              selectLabel={(key) => `Show only ${regionName(key)}`}
            />
          </div>
        ) : null}
        <footer class="footnote muted small">
          Periods are counted in the server's time zone, {timeZone}
          {timeZone !== browserZone ? ` (your browser uses ${browserZone})` : ''}; weeks start on{' '}
          {WEEKDAYS[session.weekStart % 7] ?? 'Monday'}. Views are counted once the daily roll-up has run.
        </footer>
      </main>
    </div>
  );
}
