/**
 * The durable write of the access-log rows and rejects of one Kafka
 * partition batch: exactly once, or a typed error. Everything the
 * exactly-once rule needs lives here (see docs/exactly-once.md):
 * - per partition each table holds a prefix of the positions it should
 *   hold, because a batch is written in position order, each chunk one
 *   atomic INSERT (a chunk holds rows of one table partition, one month:
 *   only such an INSERT is atomic);
 * - before a partition's first batch after an assignment, and before every
 *   retry whose outcome is unknown, the last stored position is read back
 *   (`stored`), and lines at or before it are skipped;
 * - a refused chunk is narrowed down to its bad rows, which become
 *   `insert_rejected` rejects; nearly every row refused is systematic and
 *   stops the worker instead;
 * - rejects go to the rejects table and, when one is set, the dead-letter
 *   topic.
 * The caller commits its Kafka offsets only after `write` resolved.
 */
import PQueue from 'p-queue';
import { describeError, WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Registry } from '../observe/metrics.js';
import { retry, type RetryOptions } from '../retry.js';
import { atOrBefore, laterOf, positionKey, type AccessLogStore, type LineOrigin, type RejectedLine, type StoredOffsets } from './access-log.js';
import type { RowBuffer } from './row-buffer.js';
import type { AccessLogRowWriter } from './rows.js';
import { StoreWaitState, type WaitToken } from './store-wait.js';

/** The writer's defaults, in one place (the CLI shows them). */
export const writerDefaults = {
  maxInsertRows: 50_000,
  insertConcurrency: 2,
  maxRetryDelayMs: 10_000,
} as const;

export interface WriterOptions {
  /** Rows per INSERT (default 50,000). */
  maxInsertRows?: number | undefined;
  /** INSERTs in flight at once across partitions (default 2). */
  insertConcurrency?: number | undefined;
  /** Backoff cap for retries of transient errors, ms (default 10,000). */
  maxRetryDelayMs?: number | undefined;
  /** Dead-letter topic for rejects ('' or undefined: none). */
  deadLetterTopic?: string | undefined;
}

/** What the writer needs of the transport's dead-letter producer. */
export interface DeadLetterSink {
  send(topic: string, messages: { value: string }[]): Promise<void>;
}

/** How the caller lets a long write keep its claim on the partition, and stops it. */
export interface WriteControl {
  /** Keeps group membership during long work; throws when a rebalance started. */
  heartbeat(): Promise<void>;
  /** Aborted on shutdown: stop at once, nothing counts as stored. */
  readonly signal: AbortSignal;
  /** Aborted when a graceful stop began: the attempt in flight may finish, no retry starts. */
  readonly draining: AbortSignal;
}

/** A line of the batch as the writer may need it again (a row refused alone becomes a reject holding its line). */
export interface BatchLine extends LineOrigin {
  value: string;
}

/** One partition batch's rows and rejects, in position order. */
export interface WriteBatch {
  topic: string;
  partition: number;
  rows: RowBuffer;
  rejects: readonly RejectedLine[];
  /** The batch's lines, to find a refused row's raw line by position. */
  lines: readonly BatchLine[];
  /** What `storedFrom` returned for this batch (the rows and rejects were built skipping it); kept up to date. */
  stored: StoredOffsets;
}

export interface WriterMetrics {
  inserted: ReturnType<Registry['counter']>;
  rejected: ReturnType<Registry['counter']>;
  retries: ReturnType<Registry['counter']>;
  insertSeconds: ReturnType<Registry['histogram']>;
  waiting: ReturnType<Registry['gauge']>;
}

export function writerMetrics(registry: Registry): WriterMetrics {
  return {
    inserted: registry.counter('weblog_rows_inserted_total', 'Rows inserted into ClickHouse access_log'),
    rejected: registry.counter('weblog_lines_rejected_total', 'Lines rejected, by reason'),
    retries: registry.counter('weblog_insert_retries_total', 'Retries of INSERTs after transient errors'),
    insertSeconds: registry.histogram('weblog_insert_duration_seconds', 'Duration of one INSERT', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    waiting: registry.gauge('weblog_clickhouse_waiting', 'Writes waiting for ClickHouse (1: retrying; reason disk_full or unavailable)'),
  };
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

/** Rows [from, to) of a batch's RowBuffer. */
interface Pending {
  from: number;
  to: number;
}

export class AccessLogWriter {
  private readonly stored = new Map<string, StoredOffsets>();
  private readonly narrowing = new Map<string, Narrowing>();
  private readonly queue: PQueue;
  private readonly maxRows: number;
  private readonly dlqTopic: string;
  private readonly waitState: StoreWaitState;

  constructor(
    private readonly store: AccessLogStore,
    private readonly opts: WriterOptions,
    private readonly log: Logger,
    private readonly metrics: WriterMetrics,
    private readonly dlq?: DeadLetterSink | undefined,
  ) {
    this.queue = new PQueue({ concurrency: opts.insertConcurrency ?? writerDefaults.insertConcurrency });
    this.maxRows = opts.maxInsertRows ?? writerDefaults.maxInsertRows;
    this.dlqTopic = opts.deadLetterTopic ?? '';
    this.waitState = new StoreWaitState(log, metrics.waiting);
  }

  /** A row writer for the store's column layout. */
  rowWriter(site: string | undefined): AccessLogRowWriter {
    return this.store.rowWriter(site);
  }

  /** After a (re)assignment the stored positions must be read again: another replica may have written. */
  forget(): void {
    this.stored.clear();
  }

  /** Not healthy while writes wait for ClickHouse (down, hung, disk full): /healthz answers 503. */
  health(): { ok: boolean; detail: string } {
    return this.waitState.health();
  }

  /**
   * What a partition holds from messages at `firstOffset` on: lines at or before
   * `rows` / `rejects` are stored already and must be skipped (read back once
   * per assignment, then kept up to date by the writes).
   */
  async storedFrom(topic: string, partition: number, firstOffset: number, ctl: WriteControl): Promise<StoredOffsets> {
    const key = `${topic}:${partition}`;
    let s = this.stored.get(key);
    if (!s) {
      s = await this.retrying(ctl, 'read stored offsets', () => this.store.storedOffsets(topic, partition, firstOffset), 'read');
      this.stored.set(key, s);
    }
    return s;
  }

  /** Stores the batch's rejects, then its rows, exactly once; resolves when all of it is durable. */
  async write(batch: WriteBatch, ctl: WriteControl): Promise<void> {
    const { stored } = batch;
    if (batch.rejects.length) await this.storeRejects(batch, batch.rejects, stored, ctl);
    const key = `${batch.topic}:${batch.partition}`;
    let narrowing = this.narrowing.get(key);
    if (!narrowing) this.narrowing.set(key, (narrowing = { singleTried: 0, singleFailed: 0 }));
    // One INSERT per run of rows in one table partition (month): only such an INSERT is atomic. The
    // server writes one part per partition and commits them one by one, so a failure between parts
    // (a full disk, a crash) left earlier months stored and the read-back then skipped the rest.
    const { rows } = batch;
    for (let i = 0; i < rows.count;) {
      const end = rows.partitionRunEnd(i, this.maxRows);
      await this.insertRows(batch, { from: i, to: end }, stored, ctl, narrowing);
      i = end;
    }
  }

  /** `fn` retried on transient errors; while it retries, /healthz says the writes wait for ClickHouse. */
  private async retrying<T>(ctl: WriteControl, what: string, fn: (attempt: number) => Promise<T>, kind: 'write' | 'read' = 'write'): Promise<T> {
    const token = this.waitState.begin(kind);
    let ok = false;
    try {
      const out = await retry(fn, this.retryOptions(ctl, what, token));
      ok = true;
      return out;
    } finally {
      this.waitState.settled(token, ok);
    }
  }

  private retryOptions(ctl: WriteControl, what: string, token: WaitToken): RetryOptions {
    return {
      // A graceful stop ends retrying (a stop during an outage waited out the whole shutdown timeout).
      signal: AbortSignal.any([ctl.signal, ctl.draining]),
      maxDelayMs: this.opts.maxRetryDelayMs ?? writerDefaults.maxRetryDelayMs,
      onRetry: async (err: unknown, attempt: number, delayMs: number) => {
        this.metrics.retries.inc();
        this.waitState.note(token, err);
        this.log.warn(`${what}: retrying`, { attempt, delay_ms: Math.round(delayMs), error: describeError(err) });
        await ctl.heartbeat();
      },
    };
  }

  /** Inserts rows (position order); transient errors retry, permanent ones are narrowed down to the bad rows. */
  private async insertRows(batch: WriteBatch, part: Pending, stored: StoredOffsets, ctl: WriteControl, narrowing: Narrowing): Promise<void> {
    if (ctl.signal.aborted) throw new WeblogError('ABORTED', 'shutting down: batch left uncommitted');
    const { rows, topic, partition } = batch;
    const { to } = part;
    let from = part.from;
    if (to - from === 1) narrowing.singleTried++;
    try {
      await this.retrying(ctl, 'insert', async (attempt) => {
        if (attempt > 1) {
          // The previous attempt may have landed, or may still land on a server that
          // hung: the store reads back once its outcome is known; drop what is stored.
          const now = await this.store.storedOffsets(topic, partition, rows.offsets[from] as number);
          stored.rows = laterOf(stored.rows, now.rows);
          while (from < to && atOrBefore(rows.offsets[from] as number, rows.lines[from] as number, stored.rows)) from++;
          if (from === to) return;
        }
        await ctl.heartbeat();
        const t0 = performance.now();
        await this.queue.add(() => this.store.insertRows(topic, partition, rows, from, to));
        this.metrics.insertSeconds.observe((performance.now() - t0) / 1000);
      });
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
        const msg = batch.lines.find((m) => m.offset === offset && m.line === line) as BatchLine;
        await this.storeRejects(batch, [{ msg, reject: { line: msg.value, reason: 'insert_rejected', detail: err.message } }], stored, ctl, true);
        return;
      }
      this.log.warn('insert rejected: narrowing the batch down to the bad rows', { rows: to - from, error: err.message });
      const mid = from + Math.ceil((to - from) / 2);
      await this.insertRows(batch, { from, to: mid }, stored, ctl, narrowing);
      await this.insertRows(batch, { from: mid, to }, stored, ctl, narrowing);
      return;
    }
    // Rows the read-back found stored landed by an earlier attempt of this INSERT whose answer was
    // lost (the batch was built skipping everything stored before): they count as inserted here,
    // or `weblog run` said "9,950 rows stored" of 10,000.
    if (to > part.from) {
      stored.rows = laterOf(stored.rows, { offset: rows.offsets[to - 1] as number, line: rows.lines[to - 1] as number });
      this.metrics.inserted.inc(undefined, to - part.from);
    }
    if (to - from > 1) narrowing.singleTried = narrowing.singleFailed = 0; // rows of this shape are taken: not systematic
  }

  private async storeRejects(batch: WriteBatch, list: readonly RejectedLine[], stored: StoredOffsets, ctl: WriteControl, checkPresent = false): Promise<void> {
    const { topic, partition } = batch;
    let todo = list;
    if (checkPresent) {
      // Rejects found while narrowing sit between stored rows; skip ones a crashed run already stored.
      const have = await this.retrying(
        ctl,
        'read rejects',
        () =>
          this.store.storedRejects(
            topic,
            partition,
            todo.map((r) => r.msg),
          ),
        'read',
      );
      todo = todo.filter((r) => !have.has(positionKey(r.msg.offset, r.msg.line)));
      if (todo.length === 0) return;
    }
    if (this.dlq && this.dlqTopic) {
      const dlq = this.dlq;
      await this.retrying(
        ctl,
        'dead-letter produce',
        () =>
          dlq.send(
            this.dlqTopic,
            todo.map((r) => ({ value: deadLetterJson(topic, partition, r) })),
          ),
        'read',
      );
    }
    const first = (todo[0] as RejectedLine).msg;
    const last = (todo[todo.length - 1] as RejectedLine).msg;
    await this.retrying(ctl, 'insert rejects', async (attempt) => {
      if (attempt > 1) {
        // The earlier attempt (one atomic INSERT) may have landed: once its outcome is known, look.
        const landed = checkPresent
          ? (await this.store.storedRejects(topic, partition, [first])).has(positionKey(first.offset, first.line))
          : atOrBefore(last.offset, last.line, (await this.store.storedOffsets(topic, partition, first.offset)).rejects);
        if (landed) return;
      }
      await ctl.heartbeat();
      await this.queue.add(() => this.store.insertRejects(topic, partition, todo));
    });
    stored.rejects = laterOf(stored.rejects, { offset: last.offset, line: last.line });
    // Found landed on a retry: the earlier attempt, whose answer was lost, stored them (see insertRows).
    for (const r of todo) this.metrics.rejected.inc({ reason: r.reject.reason });
  }
}

/** A reject as the dead-letter topic carries it (docs/message-format.md, "Dead letters"). */
export function deadLetterJson(topic: string, partition: number, { msg, reject }: RejectedLine): string {
  return JSON.stringify({
    line: reject.line,
    reason: reject.reason,
    detail: reject.detail,
    topic,
    partition,
    offset: msg.offset,
    line_index: msg.line,
    source: msg.source,
    source_offset: msg.sourceOffset,
  });
}
