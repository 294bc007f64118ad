import { BlockList, isIP } from 'node:net';

/**
 * Which hops of X-Forwarded-For the app believes. A proxy appends the address it saw to the
 * header, so only the right end of it is written by proxies we run; everything left of the last
 * trusted hop was written by the client and is ignored.
 */
export type ProxyTrust =
  | { kind: 'none' }
  /** this many proxies stand in front of the app, whatever their addresses */
  | { kind: 'hops'; hops: number }
  /** proxies are recognised by address: single addresses, CIDR ranges or named ranges */
  | { kind: 'addresses'; ranges: string[] };

/** Named ranges, as Express and Fastify's proxy-addr know them. */
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

export const MAX_TRUSTED_HOPS = 10;

export const TRUST_PROXY_TRUE_REFUSED =
  '"true" would trust every address in X-Forwarded-For, and its left end is written by the client: ' +
  'anyone could choose their own address, dodge the rate limits and pick their region. Set the number ' +
  'of proxies in front of the app (1 behind nginx, 2 with a CDN or load balancer before nginx) or ' +
  'their addresses / CIDR ranges (e.g. 10.0.0.0/8)';

/** Parses TRUST_PROXY: `false`/empty/`0`, a hop count, or a comma-separated list of addresses and ranges. */
export function parseTrustProxy(text: string): { ok: true; value: ProxyTrust } | { ok: false; message: string } {
  const v = text.trim();
  if (v === '' || v.toLowerCase() === 'false' || v === '0') return { ok: true, value: { kind: 'none' } };
  if (v.toLowerCase() === 'true') return { ok: false, message: TRUST_PROXY_TRUE_REFUSED };
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > MAX_TRUSTED_HOPS) return { ok: false, message: `at most ${MAX_TRUSTED_HOPS} proxy hops, got ${v}` };
    return { ok: true, value: { kind: 'hops', hops } };
  }
  const ranges = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = ranges.filter((r) => rangeProblem(r) !== undefined);
  if (bad.length > 0) {
    return {
      ok: false,
      message: `expected false, a hop count (1 behind nginx) or addresses / CIDR ranges (loopback, uniquelocal, linklocal are known); not understood: ${bad.map((b) => `"${b}"`).join(', ')}`,
    };
  }
  return { ok: true, value: { kind: 'addresses', ranges } };
}

function rangeProblem(range: string): string | undefined {
  if (NAMED_RANGES[range] !== undefined) return undefined;
  const [address, prefix, ...rest] = range.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return 'not an address';
  if (prefix === undefined) return undefined;
  if (!/^\d{1,3}$/.test(prefix)) return 'bad prefix';
  const bits = Number(prefix);
  return bits >= 1 && bits <= (family === 4 ? 32 : 128) ? undefined : 'bad prefix';
}

/**
 * The function Fastify calls for each hop (0 = the socket's peer, 1 = the rightmost
 * X-Forwarded-For entry, …); it stops at the first hop this returns false for and takes that
 * address as the client's. The pinned Fastify ignores a plain number (it trusts no hop at all),
 * so hop counts are given as this function too.
 */
export function trustFunction(trust: ProxyTrust): ((address: string, hop: number) => boolean) | false {
  switch (trust.kind) {
    case 'none':
      return false;
    case 'hops': {
      const hops = trust.hops;
      return (_address, hop) => hop < hops;
    }
    case 'addresses': {
      const list = new BlockList();
      for (const entry of trust.ranges.flatMap((r) => NAMED_RANGES[r] ?? [r])) {
        const [address = '', prefix] = entry.split('/');
        const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
        if (prefix === undefined) list.addAddress(address, type);
        else list.addSubnet(address, Number(prefix), type);
      }
      return (address) => {
        const family = isIP(address);
        return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
      };
    }
  }
}
