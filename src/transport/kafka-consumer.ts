/** The processor's side of Kafka: a consumer group that commits a batch only after its handler stored it. */
import type { Consumer, Kafka } from 'kafkajs';
import { isRetriable, WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { validateTopic } from './kafka.js';
import { isPermanentKafkaError, kafkaError } from './kafka-errors.js';
import { MessageDecoder } from './kafka-messages.js';
import type { BatchHandler, LogConsumer, LogMessage } from './types.js';

/** The consumer's defaults, in one place (the CLI shows them). */
export const consumerDefaults = {
  partitionsConcurrently: 2,
  maxBytesPerPartition: 4 * 1024 * 1024,
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
  /** Largest fetch per partition, in bytes (default 4 MiB): the upper bound of one batch. */
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

export class KafkaLogConsumer implements LogConsumer {
  private readonly consumer: Consumer;
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
    kafka: Kafka,
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
        const messages: LogMessage[] = [];
        for (const m of batch.messages) this.decoder.decodeInto(m, messages);
        const lastOffset = Number(batch.lastOffset());
        this.busy++;
        try {
          await handler(
            { topic: batch.topic, partition: batch.partition, messages, highWatermark: Number(batch.highWatermark), lastOffset },
            { heartbeat, signal: this.abort.signal, draining: this.drain.signal },
          );
        } catch (err) {
          if (this.abort.signal.aborted || this.drain.signal.aborted) return; // stopping: commit nothing, no restart
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

  /** Graceful: lets the batch in flight finish and commit, then leaves the group. */
  close(): Promise<void> {
    clearInterval(this.watchdog);
    this.drain.abort(new WeblogError('ABORTED', 'stopping'));
    this.closing ??= this.consumer.disconnect();
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
