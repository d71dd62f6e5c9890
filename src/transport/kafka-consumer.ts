/** The processor's side of Kafka: a consumer group that commits a batch only after its handler stored it. */
import type { Admin, Batch, Consumer, Kafka } from 'kafkajs';
import { isRetriable, WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { validateTopic } from './kafka.js';
import { batchExtentMetadata, gatherMaxChars, parseBatchExtent, PartitionGather, type GatherLimits } from './gather.js';
import { isPermanentKafkaError, kafkaError } from './kafka-errors.js';
import { MessageDecoder } from './kafka-messages.js';
import type { BatchHandler, LogConsumer, LogMessage } from './types.js';

/** The consumer's defaults, in one place (the CLI shows them). */
export const consumerDefaults = {
  partitionsConcurrently: 2,
  // Bytes as stored: gzip bundles from `weblog ship` hold about 4x as much text, so 1 MiB is ~17,000 lines.
  // 4 MiB (~70,000 lines a batch) cost 8 % more CPU and 250 MB more peak RSS as a user runs it (bench user-run).
  maxBytesPerPartition: 1024 * 1024,
  maxWaitTimeMs: 1000,
  // A live stream's batches end by age long before this. A backlog's 1 MiB fetches of gzip bundles hold
  // 17,000-31,000 lines: handed on one by one as before (gathering them to 50,000 cost 70-110 MB more
  // peak RSS and saved no measurable CPU in bench user-run); fetches of one-line messages (about 4,000
  // lines) are gathered into INSERTs of 20,000, which a current server takes for less CPU per row.
  maxBatchLines: 20_000,
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
  /**
   * The broker answers a fetch once it has this many bytes ... (default: one
   * full batch, --max-batch-bytes). It counts the whole fetch, all partitions:
   * more than one batch's bytes would make a backlog of few partitions wait
   * out maxWaitTimeMs on every fetch.
   */
  minBytes?: number;
  /** ... or after this many ms (default 1,000): also the longest a line waits in a partially gathered batch. */
  maxWaitTimeMs?: number;
  /** A partition's fetches are gathered into one batch until it holds this many lines (default 20,000). */
  maxBatchLines?: number;
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
  private readonly limits: GatherLimits;
  /** Per "topic:partition": the batch being gathered (nothing of it is committed yet). */
  private readonly gathers = new Map<string, PartitionGather>();
  /** The generation each gathered batch began in. */
  private readonly generations = new WeakMap<PartitionGather, number>();
  /** Per "topic:partition": the gathered batch being handed on from its timer (a fetch of that partition waits for it). */
  private readonly handing = new Map<string, Promise<void>>();
  /** Per "topic:partition": a fetch of it is being taken in (its timer leaves the batch to it). */
  private readonly taking = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Bumped by every (re)join: gathered lines of an earlier generation are fetched again, never committed by it. */
  private generation = 0;
  private handler: BatchHandler | undefined;
  /** The heartbeat of the latest fetch, for batches handed on from their timer. */
  private heartbeat: () => Promise<void> = () => Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: ConsumerOptions,
  ) {
    validateTopic(opts.topic);
    this.limits = {
      maxLines: opts.maxBatchLines ?? consumerDefaults.maxBatchLines,
      maxChars: gatherMaxChars,
      maxAgeMs: opts.maxWaitTimeMs ?? consumerDefaults.maxWaitTimeMs,
    };
    const batchBytes = opts.maxBytesPerPartition ?? consumerDefaults.maxBytesPerPartition;
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      maxBytesPerPartition: batchBytes,
      maxBytes: Math.max(16 * 1024 * 1024, batchBytes * 4),
      // A live stream's INSERTs are as big as a fetch: every INSERT costs the server about 50 ms of
      // CPU however few its rows (bench live-cost), so a fetch waits for a batch's worth, or maxWait.
      minBytes: opts.minBytes ?? batchBytes,
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
      // kafkajs fetches every assigned partition again from its committed offset: what was gathered goes.
      this.generation++;
      this.dropGathered();
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
    this.handler = handler;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConcurrently ?? consumerDefaults.partitionsConcurrently,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (!isRunning() || isStale()) return;
        // A batch of transaction markers alone is taken in too: committing past the
        // marker is what lets the group's lag reach 0 (it stayed at 1 per partition).
        // (isEmptyControlRecord is in kafkajs 2.2.4's Batch, missing from its typings.)
        if (batch.messages.length === 0 && !(batch as unknown as { isEmptyControlRecord(): boolean }).isEmptyControlRecord()) return;
        const key = `${batch.topic}:${batch.partition}`;
        this.heartbeat = heartbeat;
        this.taking.add(key);
        try {
          await this.handing.get(key); // the partition's batch handed on from its timer is stored (or fetched again) first
          if (!isRunning() || isStale() || this.stopping()) return; // fetched again from its first offset (seek)
          const generation = this.generation;
          const g = await this.take(key, batch);
          if (!g || generation !== this.generation) return; // rejoined meanwhile: fetched again from the committed offset
          resolveOffset(batch.lastOffset()); // fetch on; nothing is committed before the gathered batch is stored
          if (g.lines === 0 || g.ready(this.limits, Date.now())) await this.handOn(key, g, heartbeat, true);
          else this.schedule(key, g);
        } finally {
          this.taking.delete(key);
        }
      },
    });
  }

  private stopping(): boolean {
    return this.abort.signal.aborted || this.drain.signal.aborted;
  }

  /** Adds a fetched batch to its partition's gathered batch (started here, with a previous owner's extent); undefined: stopping. */
  private async take(key: string, batch: Batch): Promise<PartitionGather | undefined> {
    const lastOffset = Number(batch.lastOffset());
    let g = this.gathers.get(key);
    if (!g) {
      const generation = this.generation;
      const first = batch.messages.length ? Number(batch.messages[0]?.offset) : lastOffset;
      const extent = await this.recordedExtent(batch.topic, batch.partition);
      if (generation !== this.generation || this.stopping()) return undefined;
      g = this.begin(key, new PartitionGather(batch.topic, batch.partition, first, Date.now(), extent !== undefined && extent >= first ? extent : undefined));
    }
    const lines: LogMessage[] = [];
    for (const m of batch.messages) this.decoder.decodeInto(m, lines);
    const rest = g.add(lines, lastOffset, Number(batch.highWatermark));
    if (rest) {
      // Past a previous owner's extent: the batch ends there, the rest begins the next one.
      const generation = this.generation;
      await this.handOn(key, g, this.heartbeat, true);
      if (generation !== this.generation || this.stopping()) return undefined;
      const next = this.begin(key, new PartitionGather(batch.topic, batch.partition, rest.firstOffset, Date.now(), undefined));
      next.add(rest.lines, rest.lastOffset, Number(batch.highWatermark));
      return next;
    }
    return g;
  }

  private begin(key: string, g: PartitionGather): PartitionGather {
    this.gathers.set(key, g);
    this.generations.set(g, this.generation);
    return g;
  }

  /** Hands a gathered batch on once its oldest line has waited the flush interval, unless a fetch of it does first. */
  private schedule(key: string, g: PartitionGather): void {
    const at = g.dueAt(this.limits);
    if (at === undefined || this.timers.has(key)) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        if (this.gathers.get(key) !== g || this.stopping()) return;
        if (this.taking.has(key)) return; // the fetch being taken in hands it on
        const done = this.handOn(key, g, this.heartbeat, false).catch(() => undefined);
        this.handing.set(key, done);
        void done.then(() => {
          if (this.handing.get(key) === done) this.handing.delete(key);
        });
      },
      Math.max(0, at - Date.now()),
    );
    timer.unref(); // the connections keep a running consumer alive; a stopped one must not wait for it
    this.timers.set(key, timer);
  }

  /**
   * Records the batch's extent, hands it to the handler, commits past it.
   * Not stored: its partition is fetched again from the batch's first offset
   * (kafkajs had fetched on) and the next batch ends at the same extent; a
   * permanent error stops the consumer. `rethrow`: errors go on to kafkajs (a
   * fetch's own call), which rejoins on a rebalance; from a timer they do not.
   */
  private async handOn(key: string, g: PartitionGather, heartbeat: () => Promise<void>, rethrow: boolean): Promise<void> {
    if (this.gathers.get(key) === g) this.gathers.delete(key);
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
    const generation = this.generations.get(g);
    if (generation !== this.generation) return; // gathered before a rejoin: fetched again from the committed offset
    const { topic, partition, lastOffset } = g;
    let recorded = false;
    this.busy++;
    try {
      // The extent is recorded before anything is written; the commit fences a member the group dropped.
      if (g.lines > 0) {
        await this.consumer
          .commitOffsets([{ topic, partition, offset: String(g.firstOffset), metadata: batchExtentMetadata(lastOffset) }])
          .catch((err: unknown) => {
            throw rejoinable(err) ?? kafkaError(err, `record the batch extent of ${topic}/${partition}`);
          });
        recorded = true;
      }
      // A batch handed on from its timer keeps being stored while kafkajs rejoins the group: once the
      // group has moved on, its next INSERT must not start (the partition's new owner may be writing it).
      const current = async () => {
        if (generation !== this.generation) throw rebalanced(topic, partition);
        await heartbeat();
      };
      await (this.handler as BatchHandler)(
        { topic, partition, messages: g.messages, highWatermark: g.highWatermark, lastOffset },
        { heartbeat: current, signal: this.abort.signal, draining: this.drain.signal },
      );
      if (this.abort.signal.aborted || generation !== this.generation) return; // shutting down, or rejoined: commit nothing
      await this.consumer.commitOffsets([{ topic, partition, offset: String(lastOffset + 1) }]);
    } catch (err) {
      if (this.stopping()) return; // stopping: commit nothing, no restart
      if (generation === this.generation) {
        this.consumer.seek({ topic, partition, offset: String(g.firstOffset) });
        // Fetched again: the same extent again (an INSERT of it may still land).
        if (recorded) this.extents.set(key, lastOffset);
      }
      // A member the group dropped while its batch was being stored (a long INSERT, a hung server)
      // gets UNKNOWN_MEMBER_ID or a rebalance error from the commit, wrapped by kafkajs' retrier, which
      // its runner does not recognise: the consumer crashed for good. The bare error makes it rejoin.
      const bare = rejoinable(err) ?? err;
      // kafkajs' own errors and retriable ones go back to kafkajs, which rejoins or fetches again.
      if (!(bare instanceof WeblogError) || isRetriable(bare)) {
        if (rethrow) throw bare;
        this.opts.log?.warn('batch not stored: fetching it again', { topic, partition, error: bare instanceof Error ? bare.message : String(bare) });
        return;
      }
      this.fail(bare); // permanent (ours): stop consuming rather than loop on the same batch
    } finally {
      this.busy--;
      this.lastContact = Date.now(); // the next fetch is due from now
    }
  }

  /** Gathered lines are dropped (never committed): kafkajs fetches them again after a rejoin. */
  private dropGathered(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.gathers.clear();
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
    // Gathered lines not handed on yet are fetched again by the next owner; batches handed on finish.
    this.dropGathered();
    this.closing ??= Promise.all([...this.handing.values()])
      .then(() => Promise.all([this.consumer.disconnect(), this.admin?.disconnect()]))
      .then(() => undefined);
    return this.closing;
  }

  /** Abrupt: aborts the batch in flight (no commit), then leaves the group. */
  async destroy(): Promise<void> {
    this.abort.abort(new WeblogError('ABORTED', 'consumer destroyed'));
    await this.close();
  }
}

/** What a batch's writer gets once the group rebalanced under it: a kafkajs-typed error, so that nothing counts it as ours. */
function rebalanced(topic: string, partition: number): Error {
  return Object.assign(new Error(`the group rebalanced while ${topic}/${partition} was being stored: left to its new owner`), {
    type: 'REBALANCE_IN_PROGRESS',
  });
}

/** The kafkajs error inside `err` when it means "rejoin the group" (kafkajs' runner rejoins on these types only unwrapped). */
function rejoinable(err: unknown): Error | undefined {
  for (let e = err as { type?: string; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++)
    if (e.type && ['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR_FOR_GROUP'].includes(e.type)) return e as Error;
  return undefined;
}
