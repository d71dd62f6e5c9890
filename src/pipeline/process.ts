/**
 * The stream processor: Kafka batches in, parsed and enriched rows into
 * ClickHouse, rejects into the dead-letter topic and the `rejects` table.
 *
 * Exactly-once into ClickHouse (see README "Exactly once"):
 * - a message holds one line or a bundle of them; every row carries its
 *   Kafka topic, partition, offset and line index in the message: its
 *   position (offset, line);
 * - a batch holds one partition's lines in position order and is inserted
 *   in that order, chunk by chunk, each chunk one atomic INSERT (a chunk may
 *   end inside a message);
 * - so per partition each table holds a prefix of the positions it should
 *   hold: before a partition's first batch after an assignment, and before
 *   every retry whose outcome is unknown, the last stored position is read
 *   back and lines at or before it are skipped;
 * - Kafka offsets are committed only after the batch is stored.
 */
import PQueue from 'p-queue';
import { createEnricher, type EnrichOptions, type Enricher } from '../enrich/index.js';
import { describeError, WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Registry } from '../observe/metrics.js';
import { createParser, type LineParser } from '../parse/scan.js';
import type { Reject } from '../parse/record.js';
import { retry } from '../retry.js';
import { atOrBefore, ClickHouseAccessLogStore, laterOf, positionKey, type AccessLogStore, type StoredOffsets } from '../sink/access-log.js';
import { RowBuffer } from '../sink/row-buffer.js';
import { processorMetrics, type ProcessorMetrics } from './process-metrics.js';

export { processorMetrics, type ProcessorMetrics };
import { StoreWaitState } from './store-wait.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';
import type { AccessLogTsvWriter } from '../sink/rows.js';
import type { BatchControl, LogBatch, LogMessage, LogProducer } from '../transport/types.js';

export interface ProcessorOptions {
  /** Log format (default combined). */
  format?: string;
  enrich?: EnrichOptions;
  /** Value of the site column (default: the line's vhost). */
  site?: string | undefined;
  /** Rows per INSERT (default 50,000). */
  maxInsertRows?: number;
  /** INSERTs in flight at once across partitions (default 2). */
  insertConcurrency?: number;
  /** Dead-letter topic for rejected lines (default weblog.rejects; '' to disable). */
  deadLetterTopic?: string;
  /** Row layout: 'modern' or 'legacy' (the ClickHouse 18.x test schema); default: the connection's dialect. */
  dialect?: 'modern' | 'legacy';
  /** Backoff cap for retries of transient insert errors, ms (default 10,000). */
  maxRetryDelayMs?: number;
  /** Longer lines become line_too_long rejects holding their first bytes, as in the shipper (default 65,536). */
  maxLineBytes?: number;
  /** Log "caught up" the first time every partition is consumed to its end (default true; the in-process queue of `weblog run` catches up with its shipper all the time). */
  logCaughtUp?: boolean;
}

/** The processor's defaults, in one place (the CLI shows them). */
export const processorDefaults = {
  format: 'combined',
  maxInsertRows: 50_000,
  insertConcurrency: 2,
  deadLetterTopic: 'weblog.rejects',
  maxRetryDelayMs: 10_000,
  maxLineBytes: 65_536,
} as const;

export interface ProcessorDeps {
  log: Logger;
  registry: Registry;
  /** Where rejected lines are also sent (the dead-letter topic), if anywhere. */
  dlq?: LogProducer | undefined;
}

/** Bytes of an over-long line kept in its reject (as the shipper's preview). */
const TOO_LONG_PREVIEW = 256;

/** Rows [from, to) of a batch's RowBuffer. */
interface Pending {
  rows: RowBuffer;
  from: number;
  to: number;
}

/**
 * Narrowing statistics of a partition: a systematic error must not turn into
 * one INSERT per row. Counted across batches (a quiet partition's batches of
 * a few rows each never reached the threshold, so every row was dead-lettered),
 * and reset by any INSERT of several rows that succeeds.
 */
interface Narrowing {
  singleTried: number;
  singleFailed: number;
}

/** After this many single-row failures at a failure rate above 90 %, the error is systematic. */
const SYSTEMATIC_AFTER = 16;

export class Processor {
  /** The first lines the parser rejected (at most 20), to tell a wrong --format from a few bad lines. */
  readonly rejectSamples: string[] = [];
  private readonly stored = new Map<string, StoredOffsets>();
  private readonly narrowing = new Map<string, Narrowing>();
  private readonly queue: PQueue;
  private readonly maxRows: number;
  private readonly dlqTopic: string;
  private readonly rowWriter: AccessLogTsvWriter;
  private readonly waitState: StoreWaitState;

  private constructor(
    private readonly store: AccessLogStore,
    private readonly parse: LineParser,
    private readonly enricher: Enricher,
    private readonly opts: ProcessorOptions,
    private readonly log: Logger,
    readonly metrics: ProcessorMetrics,
    private readonly dlq: LogProducer | undefined,
  ) {
    this.queue = new PQueue({ concurrency: opts.insertConcurrency ?? processorDefaults.insertConcurrency });
    this.maxRows = opts.maxInsertRows ?? processorDefaults.maxInsertRows;
    this.dlqTopic = opts.deadLetterTopic ?? processorDefaults.deadLetterTopic;
    this.rowWriter = store.rowWriter(opts.site);
    this.waitState = new StoreWaitState(log, metrics.waiting);
  }

  /** A processor writing to the access_log and rejects tables of `ch`. */
  static async create(ch: ClickHouse, opts: ProcessorOptions, deps: ProcessorDeps): Promise<Processor> {
    await ch.detect(); // the row layout follows the server's dialect
    return Processor.withStore(new ClickHouseAccessLogStore(ch, opts.dialect ?? ch.dialect), opts, deps);
  }

  /** A processor writing to any store (tests use a fake one). */
  static async withStore(store: AccessLogStore, opts: ProcessorOptions, deps: ProcessorDeps): Promise<Processor> {
    const parse = createParser(opts.format ?? processorDefaults.format);
    const enricher = await createEnricher(opts.enrich);
    return new Processor(store, parse, enricher, opts, deps.log, processorMetrics(deps.registry), deps.dlq);
  }

  /** After a (re)assignment the stored offsets must be read again: another replica may have written. */
  onAssignment(): void {
    this.stored.clear();
  }

  private async knownStored(batch: LogBatch, ctl: BatchControl): Promise<StoredOffsets> {
    const key = `${batch.topic}:${batch.partition}`;
    let s = this.stored.get(key);
    if (!s) {
      const first = (batch.messages[0] as LogMessage).offset;
      s = await retry(() => this.store.storedOffsets(batch.topic, batch.partition, first), this.retryOptions(ctl, 'read stored offsets'));
      this.stored.set(key, s);
    }
    return s;
  }

  private retryOptions(ctl: BatchControl, what: string) {
    return {
      // A graceful stop ends retrying (a stop during an outage waited out the whole shutdown timeout).
      signal: AbortSignal.any([ctl.signal, ctl.draining]),
      maxDelayMs: this.opts.maxRetryDelayMs ?? processorDefaults.maxRetryDelayMs,
      onRetry: async (err: unknown, attempt: number, delayMs: number) => {
        this.metrics.retries.inc();
        this.waitState.note(err);
        this.log.warn(`${what}: retrying`, { attempt, delay_ms: Math.round(delayMs), error: describeError(err) });
        await ctl.heartbeat();
      },
    };
  }

  /** Not healthy while writes wait for ClickHouse (down, hung, disk full): /healthz answers 503. */
  health(): { ok: boolean; detail: string } {
    return this.waitState.health();
  }

  /** Handles one partition batch; resolves when everything in it is stored. */
  async handleBatch(batch: LogBatch, ctl: BatchControl): Promise<void> {
    const { topic, partition, messages } = batch;
    if (messages.length === 0) {
      this.noteLag(batch); // transaction markers only: nothing to store
      return;
    }
    this.metrics.consumed.inc(undefined, messages.length);
    this.metrics.batchRows.observe(messages.length);
    const stored = await this.knownStored(batch, ctl);
    let bytes = 0;
    for (const m of messages) bytes += m.value.length;
    const rows = new RowBuffer(bytes * 2 + messages.length * 200); // enriched rows run about 1.6x the raw line
    const rejects: { msg: LogMessage; reject: Reject }[] = [];
    let skipped = 0;
    const maxLine = this.opts.maxLineBytes ?? processorDefaults.maxLineBytes;
    for (const msg of messages) {
      const v = msg.value;
      // UTF-8 takes at least one byte per UTF-16 unit and at most three: count bytes only when it can matter.
      const tooLong = v.length > maxLine || (v.length * 3 > maxLine && Buffer.byteLength(v) > maxLine);
      const res: ReturnType<LineParser> = msg.rejectReason
        ? {
            ok: false,
            reject: {
              line: v,
              reason: msg.rejectReason,
              detail:
                msg.rejectReason === 'trailing_garbage'
                  ? 'bytes after the end of the gzip data (gzip -d ignores them with a warning); the line describes them, the source offset is where they begin in the compressed object'
                  : `the shipper could not send this line whole (${msg.rejectReason}); the line holds its first bytes`,
            },
          }
        : tooLong
          ? {
              ok: false,
              reject: {
                line: v.slice(0, TOO_LONG_PREVIEW),
                reason: 'line_too_long',
                detail: `the line is ${Buffer.byteLength(v)} bytes, over the ${maxLine} of --max-line-bytes; the line holds its first ${TOO_LONG_PREVIEW} characters`,
              },
            }
          : this.parse(v);
      if (res.ok) {
        if (atOrBefore(msg.offset, msg.line, stored.rows)) {
          skipped++;
          continue;
        }
        const rec = this.enricher.enrich(res.record);
        this.rowWriter.write(rows, rec, { source: msg.source, sourceOffset: msg.sourceOffset, topic, partition, offset: msg.offset, line: msg.line });
      } else if (!atOrBefore(msg.offset, msg.line, stored.rejects)) {
        rejects.push({ msg, reject: res.reject });
        if (this.rejectSamples.length < 20 && !msg.rejectReason && !tooLong && res.reject.reason !== 'empty_line') this.rejectSamples.push(v);
      } else skipped++;
    }
    if (skipped) this.metrics.skipped.inc(undefined, skipped);
    if (rejects.length) await this.storeRejects(batch, rejects, stored, ctl);
    const key = `${topic}:${partition}`;
    let narrowing = this.narrowing.get(key);
    if (!narrowing) this.narrowing.set(key, (narrowing = { singleTried: 0, singleFailed: 0 }));
    // One INSERT per run of rows in one table partition (month): only such an INSERT is atomic. The
    // server writes one part per partition and commits them one by one, so a failure between parts
    // (a full disk, a crash) left earlier months stored and the read-back then skipped the rest.
    for (let i = 0; i < rows.count;) {
      const end = rows.partitionRunEnd(i, this.maxRows);
      await this.insertRows(batch, { rows, from: i, to: end }, stored, ctl, narrowing);
      i = end;
    }
    const last = messages[messages.length - 1] as LogMessage;
    this.metrics.freshness.observe(Math.max(0, Date.now() - last.timestamp) / 1000);
    this.noteLag(batch);
  }

  private caughtUp = false;

  /** Real lag (markers count as consumed); "caught up" is logged once, when every partition seen is at its end. */
  private noteLag(batch: LogBatch): void {
    const lag = Math.max(0, batch.highWatermark - batch.lastOffset - 1);
    this.metrics.lag.set(lag, { topic: batch.topic, partition: batch.partition });
    if (!this.caughtUp && this.opts.logCaughtUp !== false && lag === 0 && this.metrics.lag.all().every((l) => l === 0)) {
      this.caughtUp = true;
      this.log.info('caught up: every assigned partition is consumed to its end', {
        lines: this.metrics.consumed.total(),
        rows: this.metrics.inserted.total(),
        rejects: this.metrics.rejected.total(),
      });
    }
  }

  /** Inserts rows (offset order); transient errors retry, permanent ones are narrowed down to the bad rows. */
  private async insertRows(batch: LogBatch, part: Pending, stored: StoredOffsets, ctl: BatchControl, narrowing: Narrowing): Promise<void> {
    if (ctl.signal.aborted) throw new WeblogError('ABORTED', 'shutting down: batch left uncommitted');
    const { rows, to } = part;
    let from = part.from;
    if (to - from === 1) narrowing.singleTried++;
    try {
      await retry(
        async (attempt) => {
          if (attempt > 1) {
            // The previous attempt may have landed, or may still land on a server that
            // hung: the store reads back once its outcome is known; drop what is stored.
            const now = await this.store.storedOffsets(batch.topic, batch.partition, rows.offsets[from] as number);
            stored.rows = laterOf(stored.rows, now.rows);
            while (from < to && atOrBefore(rows.offsets[from] as number, rows.lines[from] as number, stored.rows)) from++;
            if (from === to) return;
          }
          await ctl.heartbeat();
          const t0 = performance.now();
          await this.queue.add(() => this.store.insertRows(batch.topic, batch.partition, rows, from, to));
          this.metrics.insertSeconds.observe((performance.now() - t0) / 1000);
        },
        this.retryOptions(ctl, 'insert'),
      );
    } catch (err) {
      if (!(err instanceof WeblogError) || err.code !== 'INSERT_REJECTED') throw err;
      if (to - from === 1) {
        narrowing.singleFailed++;
        if (narrowing.singleFailed >= SYSTEMATIC_AFTER && narrowing.singleFailed > 0.9 * narrowing.singleTried) {
          throw new WeblogError(
            'INSERT_REJECTED',
            `ClickHouse rejects nearly every row (${narrowing.singleFailed} of ${narrowing.singleTried} tried one by one): schema or configuration mismatch, stopping without committing: ${err.message}`,
            { cause: err, retriable: false },
          );
        }
        const offset = rows.offsets[from] as number;
        const line = rows.lines[from] as number;
        const msg = batch.messages.find((m) => m.offset === offset && m.line === line) as LogMessage;
        await this.storeRejects(batch, [{ msg, reject: { line: msg.value, reason: 'insert_rejected', detail: err.message } }], stored, ctl, true);
        return;
      }
      this.log.warn('insert rejected: narrowing the batch down to the bad rows', { rows: to - from, error: err.message });
      const mid = from + Math.ceil((to - from) / 2);
      await this.insertRows(batch, { rows, from, to: mid }, stored, ctl, narrowing);
      await this.insertRows(batch, { rows, from: mid, to }, stored, ctl, narrowing);
      return;
    }
    this.waitState.recovered();
    if (to > from) {
      stored.rows = { offset: rows.offsets[to - 1] as number, line: rows.lines[to - 1] as number };
      this.metrics.inserted.inc(undefined, to - from);
      if (to - from > 1) narrowing.singleTried = narrowing.singleFailed = 0; // rows of this shape are taken: not systematic
    }
  }

  private async storeRejects(
    batch: LogBatch,
    list: { msg: LogMessage; reject: Reject }[],
    stored: StoredOffsets,
    ctl: BatchControl,
    checkPresent = false,
  ): Promise<void> {
    const { topic, partition } = batch;
    let todo = list;
    if (checkPresent) {
      // Rejects found while narrowing sit between stored rows; skip ones a crashed run already stored.
      const have = await retry(
        () =>
          this.store.storedRejects(
            topic,
            partition,
            todo.map((r) => r.msg),
          ),
        this.retryOptions(ctl, 'read rejects'),
      );
      todo = todo.filter((r) => !have.has(positionKey(r.msg.offset, r.msg.line)));
      if (todo.length === 0) return;
    }
    if (this.dlq && this.dlqTopic) {
      const dlq = this.dlq;
      await retry(
        () =>
          dlq.send(
            this.dlqTopic,
            todo.map(({ msg, reject }) => ({
              value: JSON.stringify({
                line: reject.line,
                reason: reject.reason,
                detail: reject.detail,
                topic,
                partition,
                offset: msg.offset,
                line_index: msg.line,
                source: msg.source,
                source_offset: msg.sourceOffset,
              }),
            })),
          ),
        this.retryOptions(ctl, 'dead-letter produce'),
      );
    }
    const first = (todo[0] as { msg: LogMessage }).msg;
    const last = (todo[todo.length - 1] as { msg: LogMessage }).msg;
    let skip = false;
    await retry(
      async (attempt) => {
        if (attempt > 1) {
          // The earlier attempt (one atomic INSERT) may have landed: once its outcome is known, look.
          const landed = checkPresent
            ? (await this.store.storedRejects(topic, partition, [first])).has(positionKey(first.offset, first.line))
            : atOrBefore(last.offset, last.line, (await this.store.storedOffsets(topic, partition, first.offset)).rejects);
          if (landed) {
            skip = true;
            return;
          }
        }
        await ctl.heartbeat();
        await this.queue.add(() => this.store.insertRejects(topic, partition, todo));
      },
      this.retryOptions(ctl, 'insert rejects'),
    );
    stored.rejects = laterOf(stored.rejects, { offset: last.offset, line: last.line });
    if (!skip) for (const r of todo) this.metrics.rejected.inc({ reason: r.reject.reason });
  }
}
