// State of one pages or regions table: its search (debounced, answered by the server) and the
// rows "Show more" has added. The unsearched first page comes from the dashboard, which needs it
// for the summary anyway, so opening the dashboard costs one breakdown request per table.
import { useEffect, useState } from 'preact/hooks';
import { breakdownUrl, getJson, isUnauthorized, type BreakdownBy, type BreakdownResponse, type RangeQuery } from './api';
import { combinePages, FIRST_ROWS, MORE_ROWS, type TableRows } from './breakdown-rows';
import { useJson, type Loadable } from './use-json';

const SEARCH_DELAY_MS = 300;

/** `value`, once it has stayed the same for `delayMs`. */
export function useDebounced<T>(value: T, delayMs: number): [T, (now: T) => void] {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return [settled, setSettled];
}

interface More {
  /** The table (filters, search, reload) these pages belong to. */
  base: string;
  pages: BreakdownResponse[];
  loading: boolean;
  error: unknown;
}

const NO_MORE: More = { base: '', pages: [], loading: false, error: undefined };

export interface BreakdownTableState {
  search: string;
  setSearch: (text: string) => void;
  /** Applies the search at once (Enter) instead of after the typing pause. */
  applySearch: () => void;
  /** The search the rows answer; '' for none. */
  term: string;
  table: TableRows | undefined;
  /** The first page is loading (new filters or search); rows may be the previous ones. */
  loading: boolean;
  loadingMore: boolean;
  error: unknown;
  moreError: unknown;
  /** There are more rows and nothing is loading. */
  canShowMore: boolean;
  showMore: () => void;
}

export function useBreakdownTable(
  by: BreakdownBy,
  query: RangeQuery,
  top: Loadable<BreakdownResponse>,
  reloadKey: number,
  onSessionExpired: () => void,
): BreakdownTableState {
  const [search, setSearch] = useState('');
  const [term, setTerm] = useDebounced(search.trim(), SEARCH_DELAY_MS);
  const searched = useJson<BreakdownResponse>(term ? breakdownUrl(by, query, { search: term, limit: FIRST_ROWS }) : null, reloadKey);
  // While a search's first answer loads, the rows on screen stay until it arrives.
  const first = term && (searched.data || searched.error) ? searched : top;
  const loading = term ? searched.loading : top.loading;

  const base = `${breakdownUrl(by, query, { search: term })}#${reloadKey}`;
  const [moreState, setMore] = useState<More>(NO_MORE);
  const more = moreState.base === base ? moreState : NO_MORE;

  useEffect(() => {
    if (isUnauthorized(searched.error) || isUnauthorized(more.error)) onSessionExpired();
  }, [searched.error, more.error, onSessionExpired]);

  const table = first.data && !first.error ? combinePages([first.data, ...more.pages]) : undefined;
  const offset = table?.rows.length ?? 0;
  const ready = Boolean(table?.hasMore) && !loading && !more.loading;

  const showMore = () => {
    if (!ready) return;
    setMore({ ...more, base, loading: true, error: undefined });
    getJson<BreakdownResponse>(breakdownUrl(by, query, { search: term, limit: MORE_ROWS, offset })).then(
      (page) => setMore((m) => (m.base === base ? { ...m, pages: [...m.pages, page], loading: false } : m)),
      (error: unknown) => setMore((m) => (m.base === base ? { ...m, loading: false, error } : m)),
    );
  };

  return {
    search,
    setSearch,
    applySearch: () => setTerm(search.trim()),
    term,
    table,
    loading,
    loadingMore: more.loading,
    error: first.error,
    moreError: more.error,
    canShowMore: ready,
    showMore,
  };
}
