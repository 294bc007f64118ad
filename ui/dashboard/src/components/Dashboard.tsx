// The signed-in dashboard: reads filters from the URL, loads the numbers and lays out the panels.
// Every request is answered by the server's stats endpoints, sized by what is on screen (a
// summary, one point per period, ten rows per table), never by the number of pages or regions.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  breakdownUrl,
  isUnauthorized,
  regionsUrl,
  summaryUrl,
  timeseriesUrl,
  type BreakdownResponse,
  type RangeQuery,
  type RegionsResponse,
  type Session,
  type SummaryResponse,
  type TimeseriesResponse,
} from '../api';
import { FIRST_ROWS } from '../breakdown-rows';
import { csvFilename } from '../csv';
import { formatCount, formatRange, formatZonedRange, regionName } from '../format';
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
  const fromDate = toIsoDate(range.start);
  const toDate = toIsoDate(lastDay(range));
  const query: RangeQuery = useMemo(
    () => ({ from: fromDate, to: toDate, region: filters.region, pageName: filters.page }),
    [fromDate, toDate, filters.region, filters.page],
  );

  const summary = useJson<SummaryResponse>(summaryUrl(query), reloadKey);
  const chart = useJson<TimeseriesResponse>(timeseriesUrl(filters.granularity, query), reloadKey);
  const topPages = useJson<BreakdownResponse>(breakdownUrl('page', query, { limit: FIRST_ROWS }), reloadKey);
  const topRegions = useJson<BreakdownResponse>(breakdownUrl('region', query, { limit: FIRST_ROWS }), reloadKey);
  const regions = useJson<RegionsResponse>(regionsUrl, reloadKey);

  const expired = [summary, chart, topPages, topRegions, regions].some((s) => isUnauthorized(s.error));
  useEffect(() => {
    if (expired) onSessionExpired();
  }, [expired, onSessionExpired]);

  const error = summary.error ?? chart.error;
  const loading = summary.loading || chart.loading;
  const numbers = error ? undefined : summary.data;
  const total = numbers?.views;
  const timeZone = summary.data?.timezone ?? session.timezone;

  const rangeText = formatRange(range);
  // The server echoes the days it compared with; until it answers, the same count of days before.
  const previousText = numbers ? formatZonedRange(numbers.previous.startTime, numbers.previous.endTime, numbers.timezone) : formatRange(previousRange(range));
  const filtered = Boolean(filters.region || filters.page);

  useEffect(() => {
    document.title = `${presetLabel(filters.preset)} · page-stats`;
  }, [filters.preset]);

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
          <p class="active-filter" data-testid="page-filter">
            <span>
              Page <code>{filters.page}</code>
            </span>
            <button type="button" class="chip-clear" onClick={() => update({ page: undefined })} aria-label="Clear page filter" data-testid="page-filter-clear">
              ×
            </button>
          </p>
        )}
        <p class="sr-only" role="status" aria-live="polite">
          {status}
        </p>
        <Summary
          total={total}
          previousTotal={numbers?.previous.views}
          previousRange={previousText}
          pageCount={numbers?.pages}
          topPage={topPages.error ? undefined : topPages.data?.rows[0]?.key}
          botHits={numbers?.botHits}
          filtered={filtered}
        />
        <div class={`grid-main${loading ? ' is-loading' : ''}`}>
          <ChartCard
            data={chart.data}
            granularity={filters.granularity}
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
              by="page"
              title="Pages"
              caption={`Views per page, ${rangeText}, most viewed first. Select a page to show only its views.`}
              keyHeader="Page"
              searchPlaceholder="Search pages"
              query={query}
              top={topPages}
              allViews={total}
              reloadKey={reloadKey}
              onSessionExpired={onSessionExpired}
              rowKeyAttribute="data-page"
              testId="pages-table"
              exportTestId="csv-export"
              csvFilename={csvFilename('pages', fromDate, toDate)}
              renderKey={(key) => key}
              onSelect={filters.page ? undefined : (page) => update({ page })}
              selectLabel={(key) => `Show only ${key}`}
            />
            <BreakdownTable
              by="region"
              title="Regions"
              caption={`Views per region, ${rangeText}, most viewed first. Select a region to show only its views.`}
              keyHeader="Region"
              searchPlaceholder="Search region codes (DE, US-CA)"
              query={query}
              top={topRegions}
              allViews={total}
              reloadKey={reloadKey}
              onSessionExpired={onSessionExpired}
              rowKeyAttribute="data-region"
              testId="regions-table"
              exportTestId="csv-export-regions"
              csvFilename={csvFilename('regions', fromDate, toDate)}
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
          {timeZone !== browserZone ? ` (your browser uses ${browserZone})` : ''}; weeks start on {WEEKDAYS[session.weekStart % 7] ?? 'Monday'}. Views are
          counted once the daily roll-up has run.
        </footer>
      </main>
    </div>
  );
}
