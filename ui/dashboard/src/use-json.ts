// Loads JSON for a URL and keeps the last answer while the next one loads, so filters switch
// without the page jumping. A small shared cache lets Back/Forward and repeated URLs answer at once.
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api';

const MAX_AGE_MS = 60_000;
const MAX_ENTRIES = 24;
const cache = new Map<string, { at: number; promise: Promise<unknown> }>();

function fetchCached<T>(url: string): Promise<T> {
  const hit = cache.get(url);
  if (hit && Date.now() - hit.at < MAX_AGE_MS) return hit.promise as Promise<T>;
  const promise = getJson<T>(url);
  cache.delete(url);
  cache.set(url, { at: Date.now(), promise });
  // Map keeps insertion order: the first key is the oldest.
  while (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  // A failure must not be served from the cache to the next caller.
  promise.catch(() => {
    if (cache.get(url)?.promise === promise) cache.delete(url);
  });
  return promise;
}

export const clearJsonCache = (): void => cache.clear();

export interface Loadable<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
}

/** `url` null: nothing to load. Changing `reloadKey` refetches after clearJsonCache(). */
export function useJson<T>(url: string | null, reloadKey = 0): Loadable<T> {
  const [state, setState] = useState<Loadable<T>>({ data: undefined, error: undefined, loading: url !== null });
  useEffect(() => {
    if (url === null) {
      setState({ data: undefined, error: undefined, loading: false });
      return undefined;
    }
    let current = true;
    setState((s) => (s.loading && !s.error ? s : { ...s, error: undefined, loading: true }));
    fetchCached<T>(url).then(
      (data) => current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [url, reloadKey]);
  return state;
}
