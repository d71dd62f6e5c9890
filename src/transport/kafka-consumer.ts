/** The processor's side of Kafka: a consumer group that commits a batch only after its handler stored it. */
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { isRetriable, WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { validateTopic } from './kafka.js';
import { isPermanentKafkaError, kafkaError } from './kafka-errors.js';
import { MessageDecoder } from './kafka-messages.js';
import type { BatchHandler, LogConsumer, LogMessage } from './types.js';

/** The consumer's defaults, in one place (the CLI shows them). */
export const consumerDefaults = {
  partitionsConcurrently: 2,
  // Bytes as stored: gzip bundles from `weblog ship` hold about 4x as much text, so 1 MiB is ~17,000 lines.
  // 4 MiB (~70,000 lines a batch) cost 8 % more CPU and 250 MB more peak RSS as a user runs it (bench user-run).
  maxBytesPerPartition: 1024 * 1024,
  minBytes: 64 * 1024,
  maxWaitTimeMs: 500,
  sessionTimeoutMs: 30_000,
  silenceMs: 20_000,
} as const;

export interface ConsumerOptions {
  topic: string;
  groupId: string;
  /** Partitions processed at the same time by this replica (default 2). */
  partitionsConcurrently?: number;
  /** Largest fetch per partition, in bytes (default 1 MiB): the upper bound of one batch. */
  maxBytesPerPartition?: number;
  /** The broker answers a fetch once it has this many bytes ... (default 64 KiB) */
  minBytes?: number;
  /** ... or after this many ms (default 500): the flush interval at low traffic. */
  maxWaitTimeMs?: number;
  /** Start from the earliest offset when the group has none (default true). */
  fromBeginning?: boolean;
  /** Session timeout in ms (default 30,000). */
  sessionTimeoutMs?: number;
  /** Idle, without a fetch or heartbeat answered for this long, the brokers count as silent (default 20,000 ms). */
  silenceMs?: number;
  /** Where "brokers silent" and "answering again" go. */
  log?: Logger;
}

/**
 * The extent of a batch, committed as the offset's metadata before its lines
 * are written ("weblog-batch:1:<last offset>"), so that a replica taking the
 * partition over cuts the same batch, hence the same INSERT blocks with the
 * same deduplication tokens, even when it fetched more (new lines arrived, or
 * its --max-batch-bytes is larger). An INSERT of a replica that died, landing
 * late on a server that hung, then collapses with its re-insert. The commit
 * also fences: a member the group dropped cannot record, so it writes nothing.
 */
const extentPrefix = 'weblog-batch:1:';

export function batchExtentMetadata(lastOffset: number): string {
  return `${extentPrefix}${lastOffset}`;
}

/** The last offset a batch extent names, or undefined (none, or another producer's metadata). */
export function parseBatchExtent(metadata: string | null | undefined): number | undefined {
  if (!metadata?.startsWith(extentPrefix)) return undefined;
  const text = metadata.slice(extentPrefix.length);
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) ? n : undefined;
}

/** The messages of a fetched batch up to the extent a previous owner recorded, and the batch's new last offset. */
export function cutToExtent(messages: KafkaMessage[], lastOffset: number, extent: number | undefined): { messages: KafkaMessage[]; lastOffset: number } {
  if (extent === undefined || messages.length === 0 || Number(messages[0]?.offset) > extent || lastOffset <= extent) return { messages, lastOffset };
  return { messages: messages.filter((m) => Number(m.offset) <= extent), lastOffset: extent };
}

export class KafkaLogConsumer implements LogConsumer {
  private readonly consumer: Consumer;
  private admin: Admin | undefined;
  /** Batch extents recorded by a previous owner, per "topic:partition", read once per assignment (null: used or none). */
  private readonly extents = new Map<string, number | null>();
  private readonly decoder = new MessageDecoder();
  private readonly abort = new AbortController();
  private readonly drain = new AbortController();
  private assignmentCb: ((a: { topic: string; partition: number }[]) => void) | undefined;
  private fatalCb: ((err: unknown) => void) | undefined;
  private closing: Promise<void> | undefined;
  /** Last answer from a broker (a fetch or a heartbeat), epoch ms. */
  private lastContact = Date.now();
  /** Batches being handled: no fetch is due meanwhile. */
  private busy = 0;
  private silent = false;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: ConsumerOptions,
  ) {
    validateTopic(opts.topic);
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? consumerDefaults.maxBytesPerPartition,
      maxBytes: Math.max(16 * 1024 * 1024, (opts.maxBytesPerPartition ?? consumerDefaults.maxBytesPerPartition) * 4),
      minBytes: opts.minBytes ?? consumerDefaults.minBytes,
      maxWaitTimeInMs: opts.maxWaitTimeMs ?? consumerDefaults.maxWaitTimeMs,
      sessionTimeout: opts.sessionTimeoutMs ?? consumerDefaults.sessionTimeoutMs,
      heartbeatInterval: 3000,
      // About 8 s of kafkajs retries before a crash (then it restarts the consumer, or we stop on a refusal; see CRASH below).
      retry: { retries: 5, maxRetryTime: 3000 },
    });
    const contact = () => {
      this.lastContact = Date.now();
      if (this.silent) {
        this.silent = false;
        opts.log?.info('the Kafka brokers answer again');
      }
    };
    this.consumer.on(this.consumer.events.FETCH, contact);
    this.consumer.on(this.consumer.events.HEARTBEAT, contact);
    // kafkajs restarts a crashed consumer for ever when the cause is "retriable", which a deleted topic is
    // (UNKNOWN_TOPIC_OR_PARTITION), and silently stays stopped after a refusal (no permission): either way
    // the processor sat idle with /healthz ok. A refusal, or a crash kafkajs will not restart, stops the worker.
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (this.abort.signal.aborted || this.drain.signal.aborted) return;
      const err = e.payload.error;
      if (err instanceof WeblogError) return; // ours: already handled in eachBatch
      if (!e.payload.restart || isPermanentKafkaError(err)) this.fail(kafkaError(err, `consume ${opts.topic}`));
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assigned = Object.entries(e.payload.memberAssignment).flatMap(([topic, parts]) => parts.map((partition) => ({ topic, partition })));
      this.extents.clear(); // another member may have owned them meanwhile
      this.assignmentCb?.(assigned);
    });
  }

  onAssignment(cb: (assigned: { topic: string; partition: number }[]) => void): void {
    this.assignmentCb = cb;
  }

  /** Called once when the handler or Kafka failed for good (non-retriable): nothing of that batch is committed. */
  onFatal(cb: (err: unknown) => void): void {
    this.fatalCb = cb;
  }

  private fail(err: WeblogError): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort(err);
    this.fatalCb?.(err);
  }

  /**
   * For /healthz: a broker that hangs (accepts connections, answers nothing)
   * logged nothing for 45-60 s and /healthz stayed ok.
   */
  /** Seconds since the brokers last answered (0 while a batch is being handled). */
  silentSeconds(): number {
    return this.busy > 0 ? 0 : Math.round((Date.now() - this.lastContact) / 1000);
  }

  health(): { ok: boolean; detail: string } {
    const quiet = Date.now() - this.lastContact;
    if (this.busy === 0 && quiet > (this.opts.silenceMs ?? consumerDefaults.silenceMs))
      return { ok: false, detail: `no answer from the Kafka brokers for ${Math.round(quiet / 1000)} s` };
    return { ok: true, detail: 'consuming' };
  }

  async start(handler: BatchHandler): Promise<void> {
    this.lastContact = Date.now();
    this.watchdog = setInterval(() => {
      const h = this.health();
      if (!h.ok && !this.silent) {
        this.silent = true;
        this.opts.log?.warn(`${h.detail}: a broker may hang; kafkajs keeps waiting`, { component: 'kafka' });
      }
    }, 1000);
    this.watchdog.unref();
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic: this.opts.topic, fromBeginning: this.opts.fromBeginning ?? true });
    } catch (err) {
      clearInterval(this.watchdog);
      throw kafkaError(err, `subscribe to ${this.opts.topic}`);
    }
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConcurrently ?? consumerDefaults.partitionsConcurrently,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (!isRunning() || isStale()) return;
        // A batch of transaction markers alone is handed on too: committing past the
        // marker is what lets the group's lag reach 0 (it stayed at 1 per partition).
        // (isEmptyControlRecord is in kafkajs 2.2.4's Batch, missing from its typings.)
        if (batch.messages.length === 0 && !(batch as unknown as { isEmptyControlRecord(): boolean }).isEmptyControlRecord()) return;
        let lastOffset = Number(batch.lastOffset());
        let recorded = false;
        this.busy++;
        try {
          // A previous owner's recorded extent is honoured, then this batch's own is recorded before anything is written.
          const cut = cutToExtent(batch.messages, lastOffset, await this.recordedExtent(batch.topic, batch.partition));
          lastOffset = cut.lastOffset;
          const first = cut.messages[0];
          if (first)
            await this.consumer
              .commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: first.offset, metadata: batchExtentMetadata(lastOffset) }])
              .catch((err: unknown) => {
                throw rejoinable(err) ?? kafkaError(err, `record the batch extent of ${batch.topic}/${batch.partition}`);
              });
          recorded = first !== undefined;
          const messages: LogMessage[] = [];
          for (const m of cut.messages) this.decoder.decodeInto(m, messages);
          await handler(
            { topic: batch.topic, partition: batch.partition, messages, highWatermark: Number(batch.highWatermark), lastOffset },
            { heartbeat, signal: this.abort.signal, draining: this.drain.signal },
          );
        } catch (err) {
          if (this.abort.signal.aborted || this.drain.signal.aborted) return; // stopping: commit nothing, no restart
          // Redelivered after a retriable failure: the same extent again (an INSERT of it may still land).
          if (recorded) this.extents.set(`${batch.topic}:${batch.partition}`, lastOffset);
          // kafkajs' own errors (a rebalance seen by heartbeat(), a lost coordinator)
          // and retriable ones go back to kafkajs, which rejoins and redelivers the batch.
          if (!(err instanceof WeblogError) || isRetriable(err)) throw err;
          // Permanent (ours): stop consuming rather than loop on the same batch.
          this.fail(err);
          return;
        } finally {
          this.busy--;
          this.lastContact = Date.now(); // the next fetch is due from now
        }
        if (this.abort.signal.aborted) return; // shutting down mid-batch: commit nothing
        resolveOffset(String(lastOffset)); // kafkajs fetches on from the resolved offset
        try {
          await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(lastOffset + 1) }]);
        } catch (err) {
          // A member the group dropped while its batch was being stored (a long INSERT, a hung server)
          // gets UNKNOWN_MEMBER_ID or a rebalance error here, wrapped by kafkajs' retrier, which its
          // runner does not recognise: the consumer crashed for good. The bare error makes it rejoin;
          // the batch comes again and its stored lines are skipped.
          throw rejoinable(err) ?? err;
        }
      },
    });
  }

  /** The extent a previous owner recorded for the partition's next batch (read once per assignment, used once). */
  private async recordedExtent(topic: string, partition: number): Promise<number | undefined> {
    const key = `${topic}:${partition}`;
    if (!this.extents.has(key)) {
      if (!this.admin) {
        this.admin = this.kafka.admin();
        await this.admin.connect();
      }
      const res = await this.admin.fetchOffsets({ groupId: this.opts.groupId, topics: [topic] }).catch((err: unknown) => {
        throw kafkaError(err, `read the committed offsets of ${topic}`);
      });
      for (const t of res)
        for (const p of t.partitions)
          if (!this.extents.has(`${t.topic}:${p.partition}`)) this.extents.set(`${t.topic}:${p.partition}`, parseBatchExtent(p.metadata) ?? null);
    }
    const extent = this.extents.get(key) ?? undefined;
    this.extents.set(key, null); // the next batch records its own
    return extent;
  }

  /** Graceful: lets the batch in flight finish and commit, then leaves the group. */
  close(): Promise<void> {
    clearInterval(this.watchdog);
    this.drain.abort(new WeblogError('ABORTED', 'stopping'));
    this.closing ??= Promise.all([this.consumer.disconnect(), this.admin?.disconnect()]).then(() => undefined);
    return this.closing;
  }

  /** Abrupt: aborts the batch in flight (no commit), then leaves the group. */
  async destroy(): Promise<void> {
    this.abort.abort(new WeblogError('ABORTED', 'consumer destroyed'));
    await this.close();
  }
}

/** The kafkajs error inside `err` when it means "rejoin the group" (kafkajs' runner rejoins on these types only unwrapped). */
function rejoinable(err: unknown): Error | undefined {
  for (let e = err as { type?: string; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++)
    if (e.type && ['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR_FOR_GROUP'].includes(e.type)) return e as Error;
  return undefined;
}
