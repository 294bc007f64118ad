import { ADMIN_TOKEN } from './services.js';

/** A Prometheus counter of a page-stats process, summed over its labelled series (`/metrics`, admin token). */
export async function counterTotal(baseUrl: string, name: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const text = await res.text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}
