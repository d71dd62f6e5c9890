/**
 * Gzip decompression member by member, for log objects named `.gz`.
 *
 * Node's gunzip reads concatenated members, but anything after the last one
 * that is not another member (trailing garbage, which `gzip -d` ignores with
 * a warning) fails the whole stream, and the output of the last chunk is lost
 * with it: 10 KB of lines were missing before the error on a 6 MB file. Here
 * each member is inflated raw, the bytes it used are counted (the engine
 * stops at the end of its deflate stream), and what follows the last member
 * is reported as `trailing` instead of failing. A file that is not gzip at
 * all is refused naming what it looks like (bzip2, zip, xz, zstd).
 *
 * Memory stays bounded: compressed input goes in slices of 16 KiB, so one
 * step yields at most about 16 MiB even from a gzip bomb (deflate's ratio is
 * at most 1,032:1), and nothing is read ahead of the consumer.
 */
import * as zlib from 'node:zlib';
import { createInflateRaw, type InflateRaw } from 'node:zlib';
import { WeblogError } from '../errors.js';

/** Bytes after the last gzip member. */
export interface TrailingBytes {
  /** Byte offset in the compressed object where they begin. */
  offset: number;
  /** How many there are. */
  length: number;
  /** Their first bytes (at most 32). */
  preview: Buffer;
}

/** A decompressed stream that may report bytes after the last member once it ended. */
export interface ObjectStream extends AsyncIterable<Buffer> {
  trailing?: TrailingBytes | undefined;
}

const SLICE = 16 * 1024;

/** zlib.crc32 (Node 20.15 / 22.2 and later); older Nodes skip the check, as the length check still runs. */
const crc32 = (zlib as { crc32?: (data: Buffer, value?: number) => number }).crc32;

/** What a non-gzip file looks like, from its first bytes. */
export function sniffFormat(head: Buffer): string {
  const starts = (...b: number[]) => b.every((x, i) => head[i] === x);
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2 data';
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'a zip archive';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz data';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd data';
  if (head.length > 0 && head.subarray(0, 64).every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127))) return 'plain text';
  return `bytes ${head.subarray(0, 4).toString('hex')}`;
}

/** Length of the gzip member header at the start of `b`, or undefined when `b` is too short to tell. */
function headerLength(b: Buffer): number | undefined {
  if (b.length < 10) return undefined;
  const flags = b[3] as number;
  let p = 10;
  if (flags & 4) {
    if (b.length < p + 2) return undefined;
    p += 2 + b.readUInt16LE(p);
  }
  for (const bit of [8, 16]) {
    if (flags & bit) {
      const end = b.indexOf(0, p);
      if (end === -1) return undefined;
      p = end + 1;
    }
  }
  if (flags & 2) p += 2;
  return p <= b.length ? p : undefined;
}

function zlibError(key: string, err: unknown, offset: number): WeblogError {
  const e = err as { code?: string; message?: string };
  const what = e.code === 'Z_BUF_ERROR' ? 'the gzip data ends early (truncated file?)' : `corrupt gzip data (${e.message ?? String(err)})`;
  return new WeblogError('INPUT_UNREADABLE', `${key}: ${what} near compressed byte ${offset}`, { cause: err });
}

/** Writes `chunk` and resolves with whether the deflate stream ended in it (then `inf.bytesWritten` says where). */
function feed(inf: InflateRaw, chunk: Buffer, ended: () => boolean): Promise<boolean> {
  return new Promise((resolve, reject) => {
    // Corrupt data errors the stream, and the write's callback is then never called.
    const onError = (err: Error) => reject(err);
    inf.once('error', onError);
    inf.write(chunk, (err) => {
      inf.off('error', onError);
      if (err) return reject(err);
      // 'end' follows the last push on the next turn when nothing holds the stream back.
      setImmediate(() => resolve(ended()));
    });
  });
}

/**
 * The decompressed bytes of the gzip stream `raw` (an object's bytes, `key`
 * for messages) from decompressed byte `from` on. Trailing bytes after the
 * last member end the stream and land in `trailing` of the returned stream;
 * zero padding is not trailing.
 */
export function gunzipObject(raw: AsyncIterable<Buffer>, key: string, from = 0): ObjectStream {
  const out: ObjectStream = {
    [Symbol.asyncIterator]: () => members(raw, key, from, out)[Symbol.asyncIterator](),
  };
  return out;
}

async function* members(raw: AsyncIterable<Buffer>, key: string, from: number, out: ObjectStream): AsyncGenerator<Buffer> {
  let skip = from;
  /** The part of `b` past the bytes to skip (undefined: none). */
  const after = (b: Buffer): Buffer | undefined => {
    if (skip >= b.length) {
      skip -= b.length;
      return undefined;
    }
    const r = skip > 0 ? b.subarray(skip) : b;
    skip = 0;
    return r;
  };
  const it = raw[Symbol.asyncIterator]();
  let pending: Buffer = Buffer.alloc(0);
  let base = 0; // compressed offset of pending[0]
  let eof = false;
  const more = async (): Promise<boolean> => {
    if (eof) return false;
    const r = await it.next();
    if (r.done) {
      eof = true;
      return false;
    }
    pending = pending.length > 0 ? Buffer.concat([pending, r.value]) : r.value;
    return true;
  };
  try {
    for (let member = 0; ; member++) {
      let hl: number | undefined;
      while ((hl = pending.length >= 2 && (pending[0] !== 0x1f || pending[1] !== 0x8b) ? -1 : headerLength(pending)) === undefined && (await more()));
      if (pending.length === 0 && eof) {
        if (member === 0) throw new WeblogError('INPUT_UNREADABLE', `${key}: empty file, not gzip data`);
        return;
      }
      if (hl === undefined || hl === -1) {
        if (member === 0) {
          while (pending.length < 64 && (await more())); // enough to tell what it is
          throw new WeblogError('INPUT_UNREADABLE', `${key}: named .gz but holds ${sniffFormat(pending)}, not gzip data`);
        }
        // After a member: zero padding is allowed (tape blocks); anything else is trailing garbage.
        const preview = Buffer.from(pending.subarray(0, 32));
        let length = pending.length;
        let zeros = pending.every((b) => b === 0);
        pending = Buffer.alloc(0);
        while (await more()) {
          length += pending.length;
          zeros &&= pending.every((b) => b === 0);
          pending = Buffer.alloc(0);
        }
        if (!zeros) out.trailing = { offset: base, length, preview };
        return;
      }
      pending = pending.subarray(hl);
      base += hl;
      const inf = createInflateRaw();
      let ended = false;
      let failure: unknown;
      const chunks: Buffer[] = [];
      let crc = 0;
      let size = 0;
      inf.on('data', (c: Buffer) => {
        chunks.push(c);
        if (crc32) crc = crc32(c, crc);
        size = (size + c.length) % 2 ** 32;
      });
      inf.on('end', () => (ended = true));
      inf.on('error', (e) => (failure = e));
      try {
        for (;;) {
          if (pending.length === 0 && !(await more())) {
            // The object ends inside a member: a sync flush gets out every byte the data so far holds.
            await new Promise<void>((resolve) => {
              inf.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(resolve));
              inf.once('error', () => resolve());
            });
            const last = chunks.length > 0 ? after(Buffer.concat(chunks.splice(0))) : undefined;
            if (last) yield last;
            if (!ended) throw zlibError(key, failure ?? Object.assign(new Error('unexpected end of file'), { code: 'Z_BUF_ERROR' }), base);
            break;
          }
          const slice = pending.subarray(0, SLICE);
          pending = pending.subarray(slice.length);
          const before = inf.bytesWritten;
          const done = await feed(inf, slice, () => ended).catch((err: unknown) => {
            throw zlibError(key, err, base);
          });
          const got = chunks.length === 0 ? undefined : after(chunks.length === 1 ? (chunks.pop() as Buffer) : Buffer.concat(chunks.splice(0)));
          if (got) yield got;
          if (done) {
            const used = inf.bytesWritten - before;
            pending = pending.length > 0 ? Buffer.concat([slice.subarray(used), pending]) : slice.subarray(used);
            base += used;
            break;
          }
          base += slice.length;
        }
      } finally {
        inf.destroy();
      }
      // The member's trailer: CRC-32 and length (8 bytes).
      while (pending.length < 8 && (await more()));
      if (pending.length < 8) throw zlibError(key, Object.assign(new Error('unexpected end of file'), { code: 'Z_BUF_ERROR' }), base);
      if ((crc32 && pending.readUInt32LE(0) !== crc >>> 0) || pending.readUInt32LE(4) !== size)
        throw new WeblogError(
          'INPUT_UNREADABLE',
          `${key}: gzip member ${member + 1} fails its ${crc32 ? 'CRC-32 or ' : ''}length check (corrupt data) near compressed byte ${base}`,
        );
      pending = pending.subarray(8);
      base += 8;
    }
  } finally {
    await it.return?.();
  }
}
