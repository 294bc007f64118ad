import { z } from 'zod';

/** One page view as it travels through the pipeline. */
export interface PageViewEvent {
  /** epoch milliseconds */
  timestamp: number;
  region: string;
  pageName: string;
  /** true when the user agent is a bot: stored and counted apart from page views */
  bot: boolean;
  /**
   * The request that brought the event, and the event's place in it: a copy of the request
   * stored again (a produce retried after its acknowledgement was lost, or a client retrying
   * with the same Idempotency-Key) has the same id and is counted once. Absent on older messages.
   */
  requestId?: string | undefined;
  index?: number | undefined;
}

/** An event with its place in the event log: its identity for exactly-once counting. */
export interface LoggedEvent extends PageViewEvent {
  partition: number;
  /** log offset as a decimal string (Kafka offsets are 64-bit) */
  offset: string;
  /** when the log took the event (Kafka's record timestamp, epoch ms), where the log keeps one */
  logTime?: number | undefined;
}

export const MAX_BATCH = 100;
export const MAX_PAGE_NAME_CHARS = 512;
export const MAX_FUTURE_MS = 5 * 60_000;
export const UNKNOWN_REGION = 'unknown';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const REGION_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/**
 * Characters that make one name look like another on the dashboard: bidi controls (embeddings,
 * overrides, isolates, marks) reorder the text around them, zero-width ones are not seen at all.
 */
const DECEPTIVE = /[\p{Bidi_Control}\u200B-\u200D\u2060\uFEFF]/u;
/** `scheme://` at the start, after any whitespace a careless caller left in front. */
const URL_WITH_SCHEME = /^\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** `//user@host` or `//user:secret@host` anywhere: an authority that carries credentials. */
const CREDENTIALS = /\/\/[^/?#\s]*@/;

/** What a client may send for one event. Unknown keys are ignored so older servers accept newer trackers. */
export const EventInputSchema = z.object({
  timestamp: z.union([z.number(), z.string()]).optional(),
  region: z.string().optional(),
  pageName: z.string(),
});
export type EventInput = z.infer<typeof EventInputSchema>;

export type Normalised<T> = { ok: true; value: T } | { ok: false; problems: string[] };

export interface EventContext {
  now: number;
  lateArrivalWindowMs: number;
}

export function normaliseTimestamp(raw: number | string | undefined, ctx: EventContext): Normalised<number> {
  if (raw === undefined) return { ok: true, value: ctx.now };
  let ms: number;
  if (typeof raw === 'number') {
    ms = raw;
  } else if (/^\d{1,16}$/.test(raw.trim())) {
    ms = Number(raw.trim());
  } else {
    // An ISO-8601 date-time; without an offset it is read as UTC.
    const text = raw.trim();
    const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
    if (!iso.test(text)) return { ok: false, problems: ['timestamp: expected epoch milliseconds or an ISO-8601 date-time'] };
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) && text.includes('T');
    ms = Date.parse(hasZone || !text.includes('T') ? text : `${text}Z`);
  }
  if (!Number.isFinite(ms)) return { ok: false, problems: ['timestamp: not a valid point in time'] };
  ms = Math.floor(ms);
  if (ms > ctx.now + MAX_FUTURE_MS) {
    return { ok: false, problems: ['timestamp: more than 5 minutes in the future'] };
  }
  if (ms < ctx.now - ctx.lateArrivalWindowMs) {
    return {
      ok: false,
      problems: [`timestamp: older than the late-arrival window (${Math.round(ctx.lateArrivalWindowMs / 3_600_000)} h)`],
    };
  }
  return { ok: true, value: ms };
}

/** Client-supplied region: `de`, `DE`, `de-by` → `DE`, `DE-BY`. */
export function normaliseRegion(raw: string): Normalised<string> {
  if (!REGION_PATTERN.test(raw)) {
    return { ok: false, problems: ['region: expected 1–32 characters of A–Z, a–z, 0–9, "_" or "-"'] };
  }
  return { ok: true, value: raw.toLowerCase() === UNKNOWN_REGION ? UNKNOWN_REGION : raw.toUpperCase() };
}

/**
 * Page names are stored byte-exact: only the query string and fragment are cut, and a full URL
 * (any scheme) is reduced to its path, so user:password@ never reaches the store. A fragment that
 * is a hash route (`#/…` or `#!/…`, what `data-hash="true"` sends) is part of the page, without
 * its own query string. Text PostgreSQL cannot store (NUL), that is not valid Unicode (lone
 * surrogates) or that would disguise itself on the dashboard is refused rather than altered.
 */
export function normalisePageName(raw: string): Normalised<string> {
  let name = raw;
  if (URL_WITH_SCHEME.test(name) && URL.canParse(name.trim())) {
    const url = new URL(name.trim());
    name = url.pathname + url.hash;
  }
  name = withoutQueryAndFragment(name);
  const problems: string[] = [];
  if (name.length === 0) problems.push('pageName: must not be empty (after removing the query string and fragment)');
  if (LONE_SURROGATE.test(name)) problems.push('pageName: must be valid Unicode');
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(name)) problems.push('pageName: must not contain control characters');
  const deceptive = DECEPTIVE.exec(name)?.[0];
  if (deceptive !== undefined) {
    const code = `U+${deceptive.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    problems.push(`pageName: must not contain bidi control or zero-width characters (found ${code}): they make one page name look like another`);
  }
  if (CREDENTIALS.test(name)) {
    problems.push('pageName: must not contain a URL with user name or password (send the page path)');
  }
  if ([...name].length > MAX_PAGE_NAME_CHARS) problems.push(`pageName: longer than ${MAX_PAGE_NAME_CHARS} characters`);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: name };
}

/** `/app?x=1#/users?id=3` → `/app#/users`; `/docs#install` → `/docs`. */
function withoutQueryAndFragment(name: string): string {
  const hashAt = name.indexOf('#');
  const path = (hashAt >= 0 ? name.slice(0, hashAt) : name).split('?')[0] ?? '';
  const fragment = hashAt >= 0 ? name.slice(hashAt + 1) : '';
  return /^!?\//.test(fragment) ? `${path}#${fragment.split('?')[0]}` : path;
}

/** Validates one raw event. `derivedRegion` is used when the client sent none. */
export function normaliseEvent(input: unknown, ctx: EventContext & { derivedRegion: string; bot: boolean }): Normalised<PageViewEvent> {
  const parsed = EventInputSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'event'}: ${describeIssue(i)}`),
    };
  }
  const { timestamp, region, pageName } = parsed.data;
  const t = normaliseTimestamp(timestamp, ctx);
  const r = region === undefined ? { ok: true as const, value: ctx.derivedRegion } : normaliseRegion(region);
  const p = normalisePageName(pageName);
  const problems = [t, r, p].flatMap((n) => (n.ok ? [] : n.problems));
  if (!t.ok || !r.ok || !p.ok) return { ok: false, problems };
  return { ok: true, value: { timestamp: t.value, region: r.value, pageName: p.value, bot: ctx.bot } };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  if (issue.code === 'invalid_union') return 'expected epoch milliseconds (number) or an ISO-8601 string';
  return issue.message;
}
