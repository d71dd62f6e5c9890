/**
 * The shipper: lists source objects, streams each one (never whole in
 * memory), and ships its lines in batches of messages, each message a bundle
 * of consecutive lines as the object's own bytes (or one line, with
 * --lines-per-message 1). Each batch and the object's progress go out
 * together (ShipSink), so a restarted shipper resumes at the next line: each
 * line lands exactly once. With --follow it keeps polling for new objects
 * and, for local files, appended lines (like tail -F).
 */
import { describeError, WeblogError } from '../errors.js';
import { fnv1a64, toDecimal } from '../enrich/hash.js';
import type { Logger } from '../observe/log.js';
import type { Registry } from '../observe/metrics.js';
import { retry, sleep } from '../retry.js';
import { bundleLines, itemSize, type BundleItem } from '../source/bundles.js';
import { readError } from '../source/errors.js';
import type { ObjectSource, SourceObject } from '../source/objects.js';
import { headerNames, type OutboundMessage, type ShipProgress, type ShipSink } from '../transport/types.js';

/** The shipper's defaults, in one place (the CLI shows them). */
export const shipDefaults = {
  // A transaction per 20,000 lines / 4 MiB: fewer commits (each waits for the broker) made shipping 2-3x faster than 5,000 / 1 MiB.
  batchLines: 20_000,
  batchBytes: 4 * 1024 * 1024,
  linesPerMessage: 1000,
  messageBytes: 64 * 1024,
  maxLineBytes: 65_536,
  pollIntervalMs: 5000,
  replicas: 1,
  replicaIndex: 0,
} as const;

export interface ShipOptions {
  topic: string;
  /** Message key: none (spread over partitions), source (one object -> one partition), ip (first field of the line; one line per message). Default none. */
  key?: 'none' | 'source' | 'ip';
  /** Lines per message at most (default 1,000); 1 sends each line alone, without its LF, as other shippers do. */
  linesPerMessage?: number;
  /** Bytes per message at most, for bundles (default 64 KiB; a longer line still travels alone). */
  messageBytes?: number;
  /** Lines per batch, one transaction (default 20,000). */
  batchLines?: number;
  /** Bytes per batch (default 4 MiB). */
  batchBytes?: number;
  /** Longest line in bytes; longer ones go on as rejects with a reason (default 64 KiB). */
  maxLineBytes?: number;
  /** This replica's index and the number of replicas: objects are sharded by a hash of their key. */
  replicaIndex?: number;
  replicas?: number;
  /** Ship an object again from the start when its ETag changed (default true). */
  reshipChanged?: boolean;
  /** Try objects recorded as failed again (default false). */
  retryFailed?: boolean;
  /** Keep polling (default false). */
  follow?: boolean;
  /** Poll interval with --follow, ms (default 5,000). */
  pollIntervalMs?: number;
}

export interface ShipMetrics {
  objects: ReturnType<Registry['counter']>;
  lines: ReturnType<Registry['counter']>;
  bytes: ReturnType<Registry['counter']>;
  failures: ReturnType<Registry['counter']>;
  tooLong: ReturnType<Registry['counter']>;
  pending: ReturnType<Registry['gauge']>;
}

export function shipMetrics(r: Registry): ShipMetrics {
  return {
    objects: r.counter('weblog_ship_objects_total', 'Objects shipped to the end'),
    lines: r.counter('weblog_ship_lines_total', 'Lines shipped'),
    bytes: r.counter('weblog_ship_bytes_total', 'Bytes of lines shipped'),
    failures: r.counter('weblog_ship_failures_total', 'Objects that could not be read'),
    tooLong: r.counter('weblog_ship_lines_too_long_total', 'Lines over --max-line-bytes, sent as rejects'),
    pending: r.gauge('weblog_ship_objects_pending', 'Objects listed but not yet shipped (lag behind the newest object)'),
  };
}

/** murmur3's 32-bit finaliser: every input bit flips about half the output bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Stable shard of a key among `n` replicas. FNV-1a's low bits alone are weak
 * (its lowest bit is the parity of the odd bytes: 14 real keys split 12/2 over
 * two replicas), so all 64 bits are mixed, and the shard is taken from the
 * high bits of the mix (multiply-shift), not from a remainder.
 */
export function shardOf(key: string, n: number): number {
  if (n <= 1) return 0;
  const h = fnv1a64(key);
  return Math.floor((fmix32(h.lo ^ fmix32(h.hi)) / 2 ** 32) * n);
}

export class Shipper {
  private progress = new Map<string, ShipProgress>();
  readonly metrics: ShipMetrics;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private warnedEmpty = false;

  constructor(
    private readonly source: ObjectSource,
    private readonly sink: ShipSink,
    private readonly opts: ShipOptions,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.metrics = shipMetrics(registry);
    const n = opts.replicas ?? shipDefaults.replicas;
    const i = opts.replicaIndex ?? shipDefaults.replicaIndex;
    if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(i) && i >= 0 && i < n)) {
      throw new WeblogError('CONFIG_INVALID', `--replica-index must be 0..${n - 1} and --replicas >= 1 (got ${i} of ${n})`);
    }
  }

  /** Runs until done (or, with follow, until stop()). */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Finishes the batch in flight and returns; idempotent. */
  async stop(): Promise<void> {
    this.abort.abort(new WeblogError('ABORTED', 'shipper stopping'));
    await this.running?.catch(() => undefined);
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async loop(): Promise<void> {
    this.progress = await retry(() => this.sink.loadProgress(), { signal: this.abort.signal });
    this.log.info('progress loaded', { objects: this.progress.size, source: this.source.describe() });
    do {
      await this.pass();
      if (!this.opts.follow || this.stopped) break;
      await sleep(this.opts.pollIntervalMs ?? shipDefaults.pollIntervalMs, this.abort.signal).catch(() => undefined);
    } while (!this.stopped);
  }

  /** One listing: ships what is new or grown. */
  async pass(): Promise<void> {
    let objects: SourceObject[];
    try {
      objects = await retry(() => this.source.list(), { signal: this.abort.signal, maxAttempts: this.opts.follow ? undefined : 5 });
    } catch (err) {
      if (this.stopped) return;
      throw err;
    }
    if (objects.length === 0) {
      // A typo in the prefix or glob looks like "nothing to do": say it, once until objects appear.
      if (!this.warnedEmpty) this.log.warn('no objects match the source (check the prefix or glob)', { source: this.source.describe() });
      this.warnedEmpty = true;
    } else this.warnedEmpty = false;
    const mine = objects.filter((o) => shardOf(o.key, this.opts.replicas ?? shipDefaults.replicas) === (this.opts.replicaIndex ?? shipDefaults.replicaIndex));
    const todo: { o: SourceObject; from: number }[] = [];
    for (const o of mine) {
      let from: number | undefined;
      try {
        from = await this.startOffset(o);
      } catch (err) {
        // Where to resume could not be checked (a file gone or unreadable between listing and now):
        // shipping it from the start could send lines twice, so it waits for the next pass.
        this.log.warn('cannot tell how far this object was shipped; skipped this pass', { object: o.key, error: describeError(readError(o.key, err)) });
        continue;
      }
      if (from !== undefined) todo.push({ o, from });
    }
    this.metrics.pending.set(todo.length);
    for (const { o, from } of todo) {
      if (this.stopped) return;
      await this.shipObject(o, from);
      this.metrics.pending.set(Math.max(0, todo.length - this.metrics.objects.total()));
    }
  }

  private async headOf(o: SourceObject, length: number): Promise<string | undefined> {
    if (!this.source.head || length <= 0) return undefined;
    return toDecimal(fnv1a64((await this.source.head(o, length)).toString('latin1')));
  }

  /** Where to start in `o`, or undefined to skip it. */
  private async startOffset(o: SourceObject): Promise<number | undefined> {
    let p = this.progress.get(o.key);
    if (!p && this.source.appendable) {
      // A rotated (renamed) file keeps its inode: continue where it was left.
      for (const q of this.progress.values()) if (q.etag === o.etag && !q.failed) p = { ...q, key: o.key };
    }
    if (!p) return 0;
    if (p.etag !== o.etag) return this.opts.reshipChanged === false ? undefined : 0;
    if (p.failed) return this.opts.retryFailed ? p.offset : undefined;
    if (p.done) return undefined;
    if (this.growing(o)) {
      // Rewritten in place (copytruncate, then new lines) when its first bytes differ.
      if (p.head !== undefined && p.headLength && (await this.headOf(o, p.headLength)) !== p.head) return 0;
      if (o.size > p.offset) return p.offset;
      if (o.size < p.offset) return 0; // truncated in place (copytruncate): the content is new
      return undefined;
    }
    return p.offset;
  }

  /** A local plain file may still grow; S3 objects and gzip archives do not. */
  private growing(o: SourceObject): boolean {
    return this.source.appendable && !o.gzip;
  }

  /** One line per message: with --lines-per-message 1, and with --key ip (a bundle has many clients). */
  private get oneLinePerMessage(): boolean {
    return this.opts.key === 'ip' || (this.opts.linesPerMessage ?? shipDefaults.linesPerMessage) <= 1;
  }

  /** The Kafka message of a bundle or an over-long line. */
  private messageOf(o: SourceObject, item: BundleItem): OutboundMessage {
    const headers: Record<string, string> = { [headerNames.source]: o.key, [headerNames.sourceOffset]: String(item.offset), [headerNames.etag]: o.etag };
    if (item.tooLong) {
      headers[headerNames.reject] = 'line_too_long';
      this.metrics.tooLong.inc();
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

  private async shipObject(o: SourceObject, from: number): Promise<void> {
    const prior = this.progress.get(o.key);
    let lines = prior && prior.etag === o.etag && from > 0 ? prior.lines : 0;
    let offset = from;
    const maxLines = this.opts.batchLines ?? shipDefaults.batchLines;
    const maxBytes = this.opts.batchBytes ?? shipDefaults.batchBytes;
    let batch: OutboundMessage[] = [];
    let batchLinesN = 0;
    let batchBytes = 0;
    let batchEnd = offset;
    let head: string | undefined;
    let headLength = 0;
    const flush = async (done: boolean) => {
      if (batch.length === 0 && !done) return;
      if (this.growing(o) && headLength < Math.min(256, batchEnd)) {
        headLength = Math.min(256, batchEnd);
        head = await this.headOf(o, headLength);
      }
      const progress: ShipProgress = {
        key: o.key,
        etag: o.etag,
        offset: batchEnd,
        lines: lines + batchLinesN,
        done,
        updatedAt: Date.now(),
        ...(head ? { head, headLength } : {}),
      };
      const messages = batch;
      await retry(() => this.sink.ship(this.opts.topic, messages, progress), {
        signal: this.abort.signal,
        onRetry: (err, attempt) => this.log.warn('ship: retrying', { attempt, error: describeError(err) }),
      });
      this.progress.set(o.key, progress);
      this.metrics.lines.inc(undefined, batchLinesN);
      this.metrics.bytes.inc(undefined, batchBytes);
      lines += batchLinesN;
      offset = batchEnd;
      batch = [];
      batchLinesN = 0;
      batchBytes = 0;
    };
    // Transient trouble mid-object (a reset connection, a 5xx) re-opens it at the last
    // line shipped, a few times, before the object is left for the next pass.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.streamObject(o, offset, (item) => {
          batch.push(this.messageOf(o, item));
          const size = itemSize(item);
          batchLinesN += item.tooLong ? 1 : item.lines;
          batchBytes += size;
          batchEnd = item.offset + size;
          return batchLinesN >= maxLines || batchBytes >= maxBytes ? flush(false) : undefined;
        });
        if (this.stopped) return;
        await flush(!this.growing(o));
        this.metrics.objects.inc();
        this.log.info('shipped', { object: o.key, from, to: offset, lines });
        return;
      } catch (err) {
        if (this.stopped) return;
        if (!(err instanceof WeblogError && err.retriable) || attempt >= 5) {
          await this.giveUp(o, err, offset, lines);
          return;
        }
        this.log.warn('object: retrying after a transient error', { object: o.key, offset, attempt, error: describeError(err) });
        batch = [];
        batchLinesN = 0;
        batchBytes = 0;
        batchEnd = offset;
        await sleep(200 * 2 ** attempt, this.abort.signal).catch(() => undefined);
      }
    }
  }

  private async giveUp(o: SourceObject, err: unknown, offset: number, lines: number): Promise<void> {
    this.metrics.failures.inc();
    if (err instanceof WeblogError && err.retriable) {
      // Server trouble, not the object's fault: leave it for the next pass.
      this.log.warn('object postponed', { object: o.key, offset, error: describeError(err) });
      return;
    }
    // Unreadable object: record why, carry on with the others.
    const reason = describeError(err);
    this.log.error('object failed', { object: o.key, offset, error: reason });
    const progress: ShipProgress = { key: o.key, etag: o.etag, offset, lines, done: false, failed: reason, updatedAt: Date.now() };
    await retry(() => this.sink.record(progress), { signal: this.abort.signal }).catch(() => undefined);
    this.progress.set(o.key, progress);
  }

  /** Streams `o` from `from`, calling `onItem` per bundle or over-long line (awaiting it when it returns a promise). */
  private async streamObject(o: SourceObject, from: number, onItem: (item: BundleItem) => Promise<void> | undefined): Promise<void> {
    let stream: AsyncIterable<Buffer>;
    try {
      stream = await this.source.open(o, from);
    } catch (err) {
      throw err instanceof WeblogError ? err : new WeblogError('UNAVAILABLE', `open ${o.key}: ${describeError(err)}`, { cause: err });
    }
    // A local file may be mid-write: its last line counts only once it ends with LF.
    const partialLast = !(this.growing(o) && this.opts.follow);
    try {
      for await (const items of bundleLines(stream, {
        startOffset: from,
        maxLineBytes: this.opts.maxLineBytes ?? shipDefaults.maxLineBytes,
        maxLines: this.oneLinePerMessage ? 1 : (this.opts.linesPerMessage ?? shipDefaults.linesPerMessage),
        maxBytes: this.opts.messageBytes ?? shipDefaults.messageBytes,
        emitPartialLast: partialLast,
      })) {
        for (const item of items) {
          const pending = onItem(item);
          if (pending) {
            await pending;
            if (this.stopped) return;
          }
        }
      }
    } catch (err) {
      throw readError(o.key, err); // zlib errors (corrupt gzip) are the object's fault; socket errors are not
    }
  }
}
