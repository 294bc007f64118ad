import { BROWSER_UA } from './embedded-app.js';

/**
 * A steady stream of page views from several concurrent senders. Every request carries its own
 * page name, so after the fact each stored count can be traced to one request: acknowledged
 * requests must be counted whole, others whole or not at all — never partially, never twice.
 */
export class PageViewLoad {
  readonly sizes = new Map<string, number>();
  readonly acknowledged = new Set<string>();
  readonly statuses = new Map<number | 'network', number>();
  /** responses with status 503 and their Retry-After header */
  readonly unavailable: Array<{ page: string; retryAfter: string | null }> = [];
  private running = false;
  private workers: Promise<void>[] = [];
  private counter = 0;

  constructor(
    private readonly url: () => string,
    private readonly label: string,
  ) {}

  start(concurrency = 6, pauseMs = 5): void {
    this.running = true;
    this.workers = Array.from({ length: concurrency }, (_, w) => this.worker(w, pauseMs));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  get acknowledgedEvents(): number {
    let n = 0;
    for (const page of this.acknowledged) n += this.sizes.get(page)!;
    return n;
  }

  count(status: number | 'network'): number {
    return this.statuses.get(status) ?? 0;
  }

  private async worker(w: number, pauseMs: number): Promise<void> {
    while (this.running) {
      const page = `/${this.label}/w${w}/r${this.counter++}`;
      const size = 1 + (this.counter % 5);
      this.sizes.set(page, size);
      let status: number | 'network';
      try {
        const res = await fetch(`${this.url()}/page-view`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
          body: JSON.stringify(Array.from({ length: size }, () => ({ pageName: page, region: 'DE' }))),
          signal: AbortSignal.timeout(20_000),
        });
        status = res.status;
        if (status === 202) this.acknowledged.add(page);
        if (status === 503) this.unavailable.push({ page, retryAfter: res.headers.get('retry-after') });
        await res.arrayBuffer();
      } catch {
        status = 'network';
      }
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
      if (status !== 202) await new Promise((r) => setTimeout(r, 50));
      else if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  }

  /** Checks the API's per-page totals against what was sent; returns a list of violations. */
  verify(viewsByPage: Map<string, number>): string[] {
    const problems: string[] = [];
    for (const [page, size] of this.sizes) {
      const views = viewsByPage.get(page) ?? 0;
      if (this.acknowledged.has(page) && views !== size) problems.push(`${page}: acknowledged ${size}, counted ${views}`);
      if (!this.acknowledged.has(page) && views !== 0 && views !== size) problems.push(`${page}: sent ${size}, counted ${views} (partial)`);
    }
    for (const page of viewsByPage.keys()) {
      if (page.startsWith(`/${this.label}/`) && !this.sizes.has(page)) problems.push(`${page}: counted but never sent`);
    }
    return problems;
  }
}

/**
 * Views per page name from a raw rollup endpoint (`/aggregated-data/region-daily?…`), every page
 * of it: the endpoint answers at most `limit` rows at a time and names the next page in `nextCursor`.
 */
export async function viewsByPage(url: string, headers: Record<string, string>): Promise<Map<string, number>> {
  const byPage = new Map<string, number>();
  let cursor: string | null = null;
  do {
    const res = await fetch(cursor === null ? url : `${url}&cursor=${encodeURIComponent(cursor)}`, { headers });
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { rows: Array<{ pageName: string; views: number }>; nextCursor: string | null };
    for (const r of page.rows) byPage.set(r.pageName, (byPage.get(r.pageName) ?? 0) + r.views);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return byPage;
}
