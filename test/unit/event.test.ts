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

  it('keeps hash routes (data-hash="true"): #/… and #!/… fragments without their query; other fragments are cut', () => {
    expect(normalisePageName('/app#/users/42?tab=x')).toEqual({ ok: true, value: '/app#/users/42' });
    expect(normalisePageName('/app?x=1#!/settings')).toEqual({ ok: true, value: '/app#!/settings' });
    expect(normalisePageName('#/inbox')).toEqual({ ok: true, value: '#/inbox' });
    expect(normalisePageName('/docs#install')).toEqual({ ok: true, value: '/docs' });
    expect(normalisePageName('https://example.com/app#/users')).toEqual({ ok: true, value: '/app#/users' });
  });

  it.each([
    ['\u202E (right-to-left override)', '/admin\u202Efdp.exe', 'U+202E'],
    ['\u202A (left-to-right embedding)', '/a\u202Ab', 'U+202A'],
    ['\u2066 (isolate)', '/a\u2066b\u2069', 'U+2066'],
    ['\u2069 (pop isolate)', '/ab\u2069', 'U+2069'],
    ['\u200B (zero-width space)', '/pri\u200Bcing', 'U+200B'],
    ['\u200D (zero-width joiner)', '/a\u200Db', 'U+200D'],
    ['\u2060 (word joiner)', '/a\u2060b', 'U+2060'],
    ['\uFEFF (byte order mark)', '\uFEFF/pricing', 'U+FEFF'],
  ])('refuses a page name with %s, naming the character', (_label, name, code) => {
    const result = normalisePageName(name);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join(' ')).toMatch(new RegExp(`bidi control or zero-width.*${code.replace('+', '\\+')}`));
  });

  it.each([
    ['https://user:secret@example.com/p', '/p'],
    [' https://user:secret@example.com/p', '/p'],
    ['\thttps://user:secret@example.com/p?x', '/p'],
    ['HTTPS://user:secret@example.com/p', '/p'],
    ['ftp://user:secret@files.example.com/p', '/p'],
    ['ws://user@example.com/live', '/live'],
  ])('never keeps credentials from %j', (raw, path) => {
    expect(normalisePageName(raw)).toEqual({ ok: true, value: path });
  });

  it.each(['//user:secret@example.com/p', 'ftp://user:secret@', '/go/https://user:secret@example.com', '#/to//user:pw@host'])(
    'refuses %j, which carries credentials it cannot take apart',
    (raw) => {
      const result = normalisePageName(raw);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems.join(' ')).toMatch(/user name or password/);
    },
  );

  it('uses the derived region only when the client sent none, and reports every problem', () => {
    const base = { ...ctx, derivedRegion: 'FR', bot: false };
    expect(normaliseEvent({ pageName: '/' }, base)).toEqual({ ok: true, value: { timestamp: ctx.now, region: 'FR', pageName: '/', bot: false } });
    expect(normaliseEvent({ pageName: '/', region: 'us' }, base)).toMatchObject({ ok: true, value: { region: 'US' } });
    const bad = normaliseEvent({ pageName: 3, region: '!', timestamp: 'x' }, base);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.join('\n')).toMatch(/pageName/);
  });
});
