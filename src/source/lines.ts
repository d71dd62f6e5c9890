/**
 * Splits a byte stream into lines on LF, across chunk boundaries, with the
 * byte offset of each line. Works on bytes, so a multi-byte UTF-8 character
 * split across chunks is decoded whole; a trailing CR is dropped; a last line
 * without LF is still emitted. Lines longer than `maxLineBytes` are not
 * truncated silently: they come out once with `tooLong` set (and their first
 * bytes as text) so the caller can reject them with a reason.
 */

export interface Line {
  text: string;
  /** Byte offset of the first byte of the line in the stream. */
  offset: number;
  /** Byte length of the line including its terminator. */
  size: number;
  tooLong: boolean;
}

export interface SplitOptions {
  /** Longest accepted line, in bytes (default 1 MiB). */
  maxLineBytes?: number;
  /** Offset of the stream's first byte, when resuming mid-object (default 0). */
  startOffset?: number;
  /** Emit a last line that has no LF (default true); false for files still being written. */
  emitPartialLast?: boolean;
}

const PREVIEW_BYTES = 256;

/** Yields the lines of each chunk as one array, to keep per-line overhead low. */
export async function* splitLines(chunks: AsyncIterable<Buffer | Uint8Array | string>, opts: SplitOptions = {}): AsyncGenerator<Line[]> {
  const max = opts.maxLineBytes ?? 1024 * 1024;
  // The preview of an over-long line never depends on how the stream was chunked.
  const preview = Math.min(PREVIEW_BYTES, max);
  let offset = opts.startOffset ?? 0; // offset of `pending`'s first byte
  let pending: Buffer = Buffer.alloc(0);
  let skipping = false; // inside an over-long line, waiting for its LF
  let skipStart = 0;
  let skipPreview = '';

  const make = (buf: Buffer, start: number, end: number, lineOffset: number, size: number): Line => {
    let e = end;
    if (e > start && buf[e - 1] === 13) e--;
    return { text: buf.toString('utf8', start, e), offset: lineOffset, size, tooLong: false };
  };

  for await (const chunk of chunks) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = pending.length === 0 ? data : Buffer.concat([pending, data]);
    const out: Line[] = [];
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      if (skipping) {
        out.push({ text: skipPreview, offset: skipStart, size: offset + nl + 1 - skipStart, tooLong: true });
        skipping = false;
      } else if (nl - start > max) {
        out.push({ text: buf.toString('utf8', start, start + preview), offset: offset + start, size: nl + 1 - start, tooLong: true });
      } else out.push(make(buf, start, nl, offset + start, nl + 1 - start));
      start = nl + 1;
    }
    if (!skipping && buf.length - start > max) {
      skipping = true;
      skipStart = offset + start;
      skipPreview = buf.toString('utf8', start, start + preview);
      offset += buf.length;
      pending = Buffer.alloc(0);
    } else if (skipping) {
      offset += buf.length;
      pending = Buffer.alloc(0);
    } else {
      offset += start;
      pending = start === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(start));
    }
    if (out.length > 0) yield out;
  }
  if (skipping) yield [{ text: skipPreview, offset: skipStart, size: offset - skipStart, tooLong: true }];
  else if (pending.length > 0 && opts.emitPartialLast !== false) yield [make(pending, 0, pending.length, offset, pending.length)];
}
