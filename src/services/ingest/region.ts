import { createRequire } from 'node:module';
import { UNKNOWN_REGION } from '../../domain/event.js';

interface GeoIpCountry {
  lookup(ip: string): { country?: string } | null;
}
// geoip-country ships its data set inside the npm package: lookups are offline and in memory.
const geoip = createRequire(import.meta.url)('geoip-country') as GeoIpCountry;

export interface RegionSource {
  /** the client address as the HTTP layer resolved it (X-Forwarded-For only with TRUST_PROXY) */
  ip: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Country codes CDNs use for "no country": Cloudflare's XX (unknown) and T1 (Tor). */
const NOT_A_COUNTRY = new Set(['XX', 'T1', 'ZZ', 'A1', 'A2', 'O1']);

/**
 * Region of a request whose event carries none: a trusted CDN header when configured,
 * else an offline GeoIP lookup of the client address, else `unknown`.
 */
export function createRegionResolver(trustedHeader: string | undefined): (source: RegionSource) => string {
  return (source) => {
    if (trustedHeader !== undefined) {
      const raw = source.headers[trustedHeader];
      const value = (Array.isArray(raw) ? raw[0] : raw)?.trim().toUpperCase();
      if (value !== undefined && /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/.test(value) && !NOT_A_COUNTRY.has(value)) return value;
    }
    const country = lookupCountry(source.ip);
    return country ?? UNKNOWN_REGION;
  };
}

export function lookupCountry(ip: string): string | undefined {
  const address = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  try {
    const country = geoip.lookup(address)?.country;
    return country !== undefined && /^[A-Z]{2}$/.test(country) ? country : undefined;
  } catch {
    return undefined;
  }
}
