/**
 * Cuts a byte stream into bundles: runs of whole consecutive lines, kept as
 * the stream's own bytes (terminators included), bounded by lines and bytes.
 * The shipper sends one bundle per Kafka message, so a line costs a scan for
 * its LF and nothing else: no string, no re-encoding, no per-line message.
 *
 * Lines longer than `maxLineBytes` leave the bundle flow: they come out on
 * their own, once, with `tooLong` and a preview of their first bytes, so the
 * caller can send them as rejects with a reason (as splitLines does).
 */
import { head } from './lines.js';

/** Whole consecutive lines, as the stream's bytes. */
export interface Bundle {
  tooLong: false;
  /** The lines' bytes, each with its LF (a last line of the stream may lack one). */
  bytes: Buffer;
  /** Stream offset of the first byte. */
  offset: number;
  lines: number;
}

/** A line over `maxLineBytes`, not in any bundle. */
export interface TooLongLine {
  tooLong: true;
  /** Set for bytes that are not a line at all (after the end of gzip data); default: a line over the limit. */
  reason?: 'trailing_garbage';
  /** Its first bytes (at most 256), decoded as UTF-8. */
  preview: string;
  offset: number;
  /** Bytes, LF included. */
  size: number;
}

export type BundleItem = Bundle | TooLongLine;

export interface BundleOptions {
  /** Lines per bundle (default 1,000). */
  maxLines?: number;
  /** Bytes per bundle; a single line over it still makes a bundle of its own (default 64 KiB). */
  maxBytes?: number;
  /** Longest accepted line, in bytes without its LF (default 64 KiB). */
  maxLineBytes?: number;
  /** Offset of the stream's first byte, when resuming mid-object (default 0). */
  startOffset?: number;
  /** Emit a last line that has no LF (default true); false for files still being written. */
  emitPartialLast?: boolean;
}

export const bundleDefaults = { maxLines: 1000, maxBytes: 64 * 1024, maxLineBytes: 65_536 } as const;

const PREVIEW_BYTES = 256;

/** The size of a bundle's bytes is the sum of its lines' sizes: `bytes.length`. */
export function itemSize(item: BundleItem): number {
  return item.tooLong ? item.size : item.bytes.length;
}

/**
 * Yields the bundles (and over-long lines) completed by each chunk, in stream
 * order. Every byte is scanned once and copied at most once (a bundle that
 * spans chunks is joined when it closes).
 */
export async function* bundleLines(chunks: AsyncIterable<Buffer | Uint8Array | string>, opts: BundleOptions = {}): AsyncGenerator<BundleItem[]> {
  const maxLines = Math.max(1, opts.maxLines ?? bundleDefaults.maxLines);
  const maxBytes = Math.max(1, opts.maxBytes ?? bundleDefaults.maxBytes);
  const maxLine = opts.maxLineBytes ?? bundleDefaults.maxLineBytes;
  const preview = Math.min(PREVIEW_BYTES, maxLine);

  // The open bundle: bytes of whole lines from earlier chunks (copies), plus a run of the current chunk.
  let parts: Buffer[] = [];
  let bundleStart = opts.startOffset ?? 0;
  let bundleBytes = 0;
  let bundleLinesN = 0;
  // The open line (started in an earlier chunk, no LF yet): copies of its bytes.
  let lineParts: Buffer[] = [];
  let lineLen = 0;
  let skipping = false; // inside an over-long line, waiting for its LF
  let skipPreview = '';

  let out: BundleItem[] = [];
  let data: Buffer = Buffer.alloc(0);
  let runStart = -1; // where the open bundle's bytes in `data` begin (-1: none yet)
  let runEnd = -1;

  const close = () => {
    if (runStart !== -1) {
      parts.push(data.subarray(runStart, runEnd));
      runStart = -1;
    }
    if (bundleLinesN > 0) {
      const bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, bundleBytes);
      out.push({ tooLong: false, bytes, offset: bundleStart, lines: bundleLinesN });
    }
    bundleStart += bundleBytes;
    parts = [];
    bundleBytes = 0;
    bundleLinesN = 0;
  };

  /** Adds the line ending at data[end) (its bytes before `pos` are in lineParts) to the open bundle. */
  const addLine = (pos: number, end: number) => {
    const size = lineLen + end - pos;
    if (bundleLinesN > 0 && (bundleLinesN + 1 > maxLines || bundleBytes + size > maxBytes)) close();
    if (lineLen > 0) {
      if (runStart !== -1) {
        parts.push(data.subarray(runStart, runEnd));
        runStart = -1;
      }
      parts.push(...lineParts);
      lineParts = [];
      lineLen = 0;
    }
    if (runStart === -1) runStart = pos;
    runEnd = end;
    bundleBytes += size;
    bundleLinesN++;
  };

  for await (const chunk of chunks) {
    data = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, pos)) {
      const bytes = lineLen + nl - pos; // the line without its LF
      if (skipping) {
        out.push({ tooLong: true, preview: skipPreview, offset: bundleStart, size: lineLen + nl - pos + 1 });
        bundleStart += lineLen + nl - pos + 1;
        skipping = false;
        lineLen = 0;
      } else if (bytes > maxLine) {
        close();
        out.push({ tooLong: true, preview: head(lineParts, data.subarray(pos, nl), preview).toString('utf8'), offset: bundleStart, size: bytes + 1 });
        bundleStart += bytes + 1;
        lineParts = [];
        lineLen = 0;
      } else addLine(pos, nl + 1);
      pos = nl + 1;
    }
    if (pos < data.length) {
      const rest = data.length - pos;
      if (skipping) lineLen += rest;
      else if (lineLen + rest > maxLine) {
        close(); // the bundle before the over-long line goes first
        skipping = true;
        skipPreview = head(lineParts, data.subarray(pos), preview).toString('utf8');
        lineLen += rest;
        lineParts = [];
      } else {
        lineParts.push(Buffer.from(data.subarray(pos))); // a copy: the stream may reuse its chunk
        lineLen += rest;
      }
    }
    if (runStart !== -1) {
      parts.push(Buffer.from(data.subarray(runStart, runEnd))); // a copy, for the same reason
      runStart = -1;
    }
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  data = Buffer.alloc(0);
  if (skipping) {
    out.push({ tooLong: true, preview: skipPreview, offset: bundleStart, size: lineLen });
    bundleStart += lineLen;
  } else if (lineLen > 0 && opts.emitPartialLast !== false) {
    const last = Buffer.concat(lineParts, lineLen);
    lineParts = [];
    lineLen = 0;
    data = last;
    addLine(0, last.length);
  }
  close();
  if (out.length > 0) yield out;
}
