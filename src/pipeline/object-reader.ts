/**
 * Reading one source object as the shipper sends it: the object's bytes
 * from an offset, cut into bundles of lines (or single lines), each as the
 * Kafka message it travels in, with the source headers; bytes after the end
 * of gzip data come last as a reject item.
 */
import { describeError, WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { bundleLines, type BundleItem } from '../source/bundles.js';
import { readError } from '../source/errors.js';
import type { ObjectStream } from '../source/gzip.js';
import type { ObjectSource, SourceObject } from '../source/objects.js';
import { headerNames, type OutboundMessage } from '../transport/types.js';

/** Thrown by an item callback to end reading an object early. */
export class StopReading extends Error {}

export interface ReaderOptions {
  key?: 'none' | 'source' | 'ip' | undefined;
  linesPerMessage: number;
  messageBytes: number;
  maxLineBytes: number;
  follow: boolean;
}

/** The first `n` bytes of `stream` (a ship call read again ends where it ended then). */
async function* firstBytes(stream: AsyncIterable<Buffer>, n: number): AsyncGenerator<Buffer> {
  let left = n;
  for await (const c of stream) {
    if (left <= 0) return;
    yield c.length <= left ? c : c.subarray(0, left);
    left -= c.length;
  }
}

export class ObjectReader {
  constructor(
    private readonly source: ObjectSource,
    private readonly opts: ReaderOptions,
    private readonly log: Logger,
    private readonly onTooLong: () => void,
  ) {}

  /** A local plain file may still grow; S3 objects and gzip archives do not. */
  growing(o: SourceObject): boolean {
    return this.source.appendable && !o.gzip;
  }

  /** One line per message: with --lines-per-message 1, and with --key ip (a bundle has many clients). */
  get oneLinePerMessage(): boolean {
    return this.opts.key === 'ip' || this.opts.linesPerMessage <= 1;
  }

  /** The Kafka message of a bundle or an over-long line. */
  messageOf(o: SourceObject, item: BundleItem): OutboundMessage {
    const headers: Record<string, string> = { [headerNames.source]: o.key, [headerNames.sourceOffset]: String(item.offset), [headerNames.etag]: o.etag };
    if (item.tooLong) {
      headers[headerNames.reject] = item.reason ?? 'line_too_long';
      if (!item.reason) this.onTooLong();
      return { key: this.opts.key === 'source' ? o.key : null, value: item.preview, headers };
    }
    let value = item.bytes;
    if (this.oneLinePerMessage) {
      // The line alone, as other shippers send it: without its LF (or CRLF).
      let end = value.length;
      if (end > 0 && value[end - 1] === 10) end--;
      if (end > 0 && value[end - 1] === 13) end--;
      value = value.subarray(0, end);
    }
    switch (this.opts.key) {
      case 'source':
        return { key: o.key, value, headers };
      case 'ip': {
        const sp = value.indexOf(32);
        return { key: sp === -1 ? value : value.subarray(0, sp), value, headers };
      }
      default:
        return { key: null, value, headers };
    }
  }

  /**
   * Streams `o` from `from` (up to byte `end`, when given), calling `onItem`
   * per bundle or over-long line and awaiting it when it returns a promise;
   * `stopped` ends it between items.
   */
  async stream(o: SourceObject, from: number, onItem: (item: BundleItem) => Promise<void> | undefined, stopped: () => boolean, end?: number): Promise<void> {
    let stream: ObjectStream;
    try {
      stream = await this.source.open(o, from);
    } catch (err) {
      throw err instanceof WeblogError ? err : new WeblogError('UNAVAILABLE', `open ${o.key}: ${describeError(err)}`, { cause: err });
    }
    // A local file may be mid-write: its last line counts only once it ends with LF.
    const partialLast = !(this.growing(o) && this.opts.follow);
    // A read that fails (a truncated gzip) ends the bytes there: the lines completed before it still go
    // out (the open bundle was lost with the error), the line it cut does not; then the error is raised.
    let failure: { err: unknown } | undefined;
    const bytes = end === undefined ? stream : firstBytes(stream, end - from);
    const untilFailure = async function* (): AsyncGenerator<Buffer> {
      try {
        yield* bytes;
      } catch (err) {
        failure = { err };
      }
    };
    try {
      for await (const items of bundleLines(untilFailure(), {
        startOffset: from,
        maxLineBytes: this.opts.maxLineBytes,
        maxLines: this.oneLinePerMessage ? 1 : this.opts.linesPerMessage,
        maxBytes: this.opts.messageBytes,
        get emitPartialLast() {
          return partialLast && !failure;
        },
      })) {
        for (const item of items) {
          const pending = onItem(item);
          if (pending) {
            await pending;
            if (stopped()) return;
          }
        }
      }
      if (failure) throw failure.err;
      const t = end === undefined ? stream.trailing : undefined;
      if (t) {
        // gzip -d ignores bytes after the last member with a warning: the lines ship, the bytes become a reject.
        this.log.warn('bytes after the end of the gzip data: recorded as a reject', { object: o.key, compressed_offset: t.offset, bytes: t.length });
        await onItem({
          tooLong: true,
          reason: 'trailing_garbage',
          preview: `${t.length} bytes after the end of the gzip data at compressed byte ${t.offset}: ${t.preview.toString('hex')}${t.length > t.preview.length ? '...' : ''}`,
          offset: t.offset,
          size: 0,
        });
      }
    } catch (err) {
      if (err instanceof StopReading) throw err;
      throw readError(o.key, err); // zlib errors (corrupt gzip) are the object's fault; socket errors are not
    }
  }
}
