import { describe, expect, it } from 'vitest';
import { normaliseEvent, normalisePageName, normaliseRegion, normaliseTimestamp } from '../../src/domain/event.js';

const ctx = { now: Date.parse('2026-06-15T12:00:00Z'), lateArrivalWindowMs: 48 * 3_600_000 };

describe('event normalisation', () => {
  it('accepts epoch ms, numeric strings and ISO-8601 with or without an offset (UTC)', () => {
    expect(normaliseTimestamp(ctx.now - 1, ctx)).toEqual({ ok: true, value: ctx.now - 1 });
    expect(normaliseTimestamp(String(ctx.now - 1), ctx)).toEqual({ ok: true, value: ctx.now - 1 });
    expect(normaliseTimestamp('2026-06-15T11:00:00+02:00', ctx)).toEqual({ ok: true, value: Date.parse('2026-06-15T09:00:00Z') });
    expect(normaliseTimestamp('2026-06-15T11:00:00', ctx)).toEqual({ ok: true, value: Date.parse('2026-06-15T11:00:00Z') });
    expect(normaliseTimestamp(undefined, ctx)).toEqual({ ok: true, value: ctx.now });
    expect(normaliseTimestamp(ctx.now - 0.5, ctx)).toEqual({ ok: true, value: ctx.now - 1 });
  });

  it('refuses the future beyond 5 minutes and the past beyond the window', () => {
    expect(normaliseTimestamp(ctx.now + 5 * 60_000, ctx).ok).toBe(true);
    expect(normaliseTimestamp(ctx.now + 5 * 60_000 + 1, ctx).ok).toBe(false);
    expect(normaliseTimestamp(ctx.now - ctx.lateArrivalWindowMs, ctx).ok).toBe(true);
    expect(normaliseTimestamp(ctx.now - ctx.lateArrivalWindowMs - 1, ctx).ok).toBe(false);
    expect(normaliseTimestamp(Number.NaN, ctx).ok).toBe(false);
    expect(normaliseTimestamp('2026-02-30T00:00:00Z', ctx).ok).toBe(false);
  });

  it('normalises regions to upper-case ISO codes and keeps unknown', () => {
    expect(normaliseRegion('de')).toEqual({ ok: true, value: 'DE' });
    expect(normaliseRegion('de-by')).toEqual({ ok: true, value: 'DE-BY' });
    expect(normaliseRegion('Unknown')).toEqual({ ok: true, value: 'unknown' });
    for (const bad of ['', 'D E', 'DE,FR', 'x'.repeat(33), 'Ü']) expect(normaliseRegion(bad).ok).toBe(false);
  });

  it('cuts query and fragment, reduces URLs to their path, keeps Unicode byte-exact', () => {
    expect(normalisePageName('/pricing?plan=pro#faq')).toEqual({ ok: true, value: '/pricing' });
    expect(normalisePageName('https://example.com/docs/a?b')).toEqual({ ok: true, value: '/docs/a' });
    expect(normalisePageName('/日本語/ページ 🎉')).toEqual({ ok: true, value: '/日本語/ページ 🎉' });
    expect(normalisePageName('/a b,c=d"\'\\')).toEqual({ ok: true, value: '/a b,c=d"\'\\' });
    expect(normalisePageName(`/${'é'.repeat(511)}`).ok).toBe(true);
    expect(normalisePageName(`/${'é'.repeat(512)}`).ok).toBe(false);
    expect(normalisePageName('?only=query').ok).toBe(false);
  });

  it('uses the derived region only when the client sent none, and reports every problem', () => {
    const base = { ...ctx, derivedRegion: 'FR', bot: false };
    expect(normaliseEvent({ pageName: '/' }, base)).toEqual({ ok: true, value: { timestamp: ctx.now, region: 'FR', pageName: '/', bot: false } });
    expect(normaliseEvent({ pageName: '/', region: 'us' }, base)).toMatchObject({ ok: true, value: { region: 'US' } });
    const bad = normaliseEvent({ pageName: 3, region: '!', timestamp: 'x' }, base);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.join('\n')).toMatch(/pageName/);
  });
});
