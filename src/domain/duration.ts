import { Duration } from 'luxon';

const SHORT = /^(\d+)\s*(ms|s|m|h|d|w)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Parses `48h`, `30d`, `90s`, `500ms`, an ISO-8601 duration (`P2D`, `PT36H`) or plain milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const short = SHORT.exec(trimmed);
  if (short) return Number(short[1]) * UNIT_MS[short[2] as keyof typeof UNIT_MS];
  if (/^P/i.test(trimmed)) {
    const iso = Duration.fromISO(trimmed.toUpperCase());
    if (iso.isValid) return iso.toMillis();
  }
  return undefined;
}
