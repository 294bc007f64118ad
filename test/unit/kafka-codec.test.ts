import { describe, expect, it } from 'vitest';
import type { PageViewEvent } from '../../src/domain/event.js';
import { decodeEvent, encodeEvent } from '../../src/adapters/kafka/codec.js';

const hostile = ['/plain', '/"quoted"\\back', '/line\nbreak\u2028sep', '/ünïcødé/日本', '/lone\ud800surrogate', '', '/{"id":"x"}'];

describe('the Kafka message value', () => {
  it('is the JSON of the event object, byte for byte, for hostile names and with or without a request id', () => {
    const events: PageViewEvent[] = hostile.flatMap((name, i) => [
      { timestamp: 1_764_000_000_000 + i, region: name.slice(0, 8) || 'DE', pageName: name, bot: i % 2 === 0 },
      { timestamp: 1_764_000_000_000 + i, region: 'SE', pageName: name, bot: false, requestId: `host.${name}.${i}`, index: i },
    ]);
    for (const e of events) {
      const expected = JSON.stringify({ timestamp: e.timestamp, region: e.region, pageName: e.pageName, bot: e.bot, id: e.requestId, i: e.index });
      expect(encodeEvent(e)).toBe(expected);
      const back = decodeEvent(Buffer.from(encodeEvent(e)), 3, '42');
      expect(back).toEqual({ ...e, partition: 3, offset: '42', logTime: undefined });
    }
  });
});
