import type { LoggedEvent, PageViewEvent } from '../../domain/event.js';

/** The message value on `page_view_events`: JSON, so any client in any language can read it. */
export function encodeEvent(e: PageViewEvent): string {
  return JSON.stringify({ timestamp: e.timestamp, region: e.region, pageName: e.pageName, bot: e.bot, id: e.requestId, i: e.index });
}

/** Undefined for a value that is not an event (it is skipped and logged, never retried forever). */
export function decodeEvent(value: Buffer | null, partition: number, offset: string, logTime?: number): LoggedEvent | undefined {
  if (value === null) return undefined;
  try {
    const v = JSON.parse(value.toString('utf8')) as Partial<PageViewEvent> & { id?: unknown; i?: unknown };
    if (typeof v.timestamp !== 'number' || typeof v.region !== 'string' || typeof v.pageName !== 'string') return undefined;
    const event: LoggedEvent = { timestamp: v.timestamp, region: v.region, pageName: v.pageName, bot: v.bot === true, partition, offset, logTime };
    if (typeof v.id === 'string' && Number.isSafeInteger(v.i) && (v.i as number) >= 0) {
      event.requestId = v.id;
      event.index = v.i as number;
    }
    return event;
  } catch {
    return undefined;
  }
}
