import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/process.js';

describe('tracker.js size budget', () => {
  it('is at most 1,000 bytes gzipped, at any compression level a server might use', () => {
    const code = readFileSync(join(ROOT, 'dist', 'tracker', 'tracker.js'));
    for (const level of [1, 6, 9]) expect(gzipSync(code, { level }).length, `gzip level ${level}`).toBeLessThanOrEqual(1_000);
  });
});
