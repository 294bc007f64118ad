import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { invalidInput } from '../../domain/errors.js';

/** A file to import, opened as many times as the import reads it (twice: identity, then rows). */
export type OpenSource = () => AsyncIterable<Uint8Array>;

/** gzip's magic bytes: how a compressed file is recognised, whatever its name or media type. */
export const isGzip = (head: Uint8Array): boolean => head[0] === 0x1f && head[1] === 0x8b;

/**
 * The decompressed bytes of `source`, chunk by chunk; `onRaw` hears how many bytes of the source
 * itself (compressed or not) each chunk took, which is what a progress bar can compare with the
 * file's size.
 */
export async function* decompressed(
  source: AsyncIterable<Uint8Array>,
  onRaw: (bytes: number) => void = () => {},
  found: { gzip: boolean } = { gzip: false },
): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  // Two bytes decide, and a first chunk may be shorter.
  while (head.length < 2) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, Buffer.from(next.value)]);
  }
  async function* raw(): AsyncGenerator<Buffer> {
    if (head.length > 0) {
      onRaw(head.length);
      yield head;
    }
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      onRaw(next.value.byteLength);
      yield Buffer.from(next.value);
    }
  }
  found.gzip = isGzip(head);
  if (!found.gzip) {
    yield* raw();
    return;
  }
  const gunzip = createGunzip();
  pipeline(Readable.from(raw()), gunzip, () => {});
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    throw invalidInput('the file is not valid gzip', [err instanceof Error ? err.message : String(err)]);
  }
}

/** SHA-256 (hex) of the decompressed content and whether the file was gzip: the file's identity. */
export async function identify(open: OpenSource, onRaw?: (bytes: number) => void): Promise<{ sha256: string; gzip: boolean; bytes: number }> {
  const hash = createHash('sha256');
  const found = { gzip: false };
  let bytes = 0;
  for await (const chunk of decompressed(open(), onRaw, found)) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), gzip: found.gzip, bytes };
}
