import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/runtime/config.js';
import { createHttpServer } from '../../src/runtime/http-server.js';
import { createLogger } from '../../src/runtime/logger.js';

/** What the app believes about a request that reached it from `peer` with these headers. */
async function seenAs(trustProxy: string, peer: string, headers: Record<string, string> = {}): Promise<{ ip: string; protocol: string }> {
  const app = await createHttpServer({ logger: createLogger('silent'), maxBodyBytes: 65_536, trustProxy: loadConfig({ TRUST_PROXY: trustProxy }).trustProxy });
  app.get('/who', async (req) => ({ ip: req.ip, protocol: req.protocol }));
  const res = await app.inject({ method: 'GET', url: '/who', remoteAddress: peer, headers });
  await app.close();
  return res.json() as { ip: string; protocol: string };
}

describe('TRUST_PROXY', () => {
  it('a hop count takes the client from the right end of X-Forwarded-For, as far as the hops go', async () => {
    // nginx (10.0.0.5) appended the visitor 81.2.69.142; the visitor forged 1.2.3.4 on the left
    expect(await seenAs('1', '10.0.0.5', { 'x-forwarded-for': '1.2.3.4, 81.2.69.142' })).toEqual({ ip: '81.2.69.142', protocol: 'http' });
    // a CDN and nginx: two hops
    expect((await seenAs('2', '10.0.0.5', { 'x-forwarded-for': '1.2.3.4, 81.2.69.142, 203.0.113.7' })).ip).toBe('81.2.69.142');
    // fewer entries than hops: the leftmost there is
    expect((await seenAs('3', '10.0.0.5', { 'x-forwarded-for': '81.2.69.142' })).ip).toBe('81.2.69.142');
    // no header: the peer itself
    expect((await seenAs('1', '10.0.0.5')).ip).toBe('10.0.0.5');
  });

  it('addresses and CIDR ranges trust only those peers, walking from the right', async () => {
    const chain = { 'x-forwarded-for': '1.2.3.4, 81.2.69.142, 10.1.2.3' };
    expect((await seenAs('10.0.0.0/8', '10.0.0.5', chain)).ip).toBe('81.2.69.142');
    expect((await seenAs('uniquelocal', '10.0.0.5', chain)).ip).toBe('81.2.69.142');
    expect((await seenAs('10.0.0.5', '10.0.0.5', chain)).ip).toBe('10.1.2.3');
    // an untrusted peer's header is ignored
    expect((await seenAs('10.0.0.0/8', '198.51.100.1', chain)).ip).toBe('198.51.100.1');
    // IPv4-mapped IPv6 peers (a dual-stack listener) match IPv4 ranges
    expect((await seenAs('127.0.0.1', '::ffff:127.0.0.1', chain)).ip).toBe('10.1.2.3');
    expect((await seenAs('::1', '::1', { 'x-forwarded-for': '2001:db8::1' })).ip).toBe('2001:db8::1');
  });

  it('off: X-Forwarded-For and X-Forwarded-Proto are ignored', async () => {
    expect(await seenAs('false', '10.0.0.5', { 'x-forwarded-for': '81.2.69.142', 'x-forwarded-proto': 'https' })).toEqual({ ip: '10.0.0.5', protocol: 'http' });
  });

  it('X-Forwarded-Proto counts only from a trusted peer', async () => {
    expect((await seenAs('1', '10.0.0.5', { 'x-forwarded-proto': 'https' })).protocol).toBe('https');
    expect((await seenAs('10.0.0.0/8', '10.0.0.5', { 'x-forwarded-proto': 'https' })).protocol).toBe('https');
    expect((await seenAs('10.0.0.0/8', '198.51.100.1', { 'x-forwarded-proto': 'https' })).protocol).toBe('http');
  });
});
