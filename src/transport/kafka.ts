/**
 * Kafka transport on kafkajs. kafkajs has had no release since 2023, so it
 * stays behind this module: nothing else imports it.
 */
import { CompressionTypes, Kafka, logLevel, Partitioners, type Consumer, type Producer, type KafkaMessage } from 'kafkajs';
import { isRetriable, WeblogError } from '../errors.js';
import { installFastRecordDecoder } from './kafkajs-decoder.js';
import { kafkajsErrorLevel } from './kafka-log.js';
import type { Logger } from '../observe/log.js';
import { headerNames, shipperRejectReasons, type ShipperRejectReason, type BatchHandler, type LogConsumer, type LogMessage, type LogProducer, type OutboundMessage, type ShipProgress, type ShipSink } from './types.js';

export interface KafkaOptions {
  brokers: string[];
  clientId?: string;
  /** Connection timeout in ms (default 3,000). */
  connectionTimeoutMs?: number;
  logger?: Logger;
}

export const topicPattern = /^[A-Za-z0-9._-]{1,249}$/;

export function validateTopic(topic: string, what = 'topic'): string {
  if (!topicPattern.test(topic)) throw new WeblogError('CONFIG_INVALID', `${what} "${topic}": Kafka topic names are 1-249 of [A-Za-z0-9._-]`);
  return topic;
}

export function createKafka(opts: KafkaOptions): Kafka {
  if (opts.brokers.length === 0) throw new WeblogError('CONFIG_INVALID', '--brokers: expected HOST:PORT[,HOST:PORT...]');
  for (const b of opts.brokers) if (!/^[^:\s]+:\d+$/.test(b)) throw new WeblogError('CONFIG_INVALID', `--brokers: "${b}" is not HOST:PORT`);
  const log = opts.logger;
  // Before kafkajs loads its Fetch decoders (on the first fetch): see kafkajs-decoder.ts.
  const decoder = installFastRecordDecoder();
  if (decoder === 'too-late' || decoder === 'unsupported-version') log?.warn(`kafkajs' own record decoder stays in use (${decoder}): consuming costs about twice the CPU`, { component: 'kafka' });
  return new Kafka({
    clientId: opts.clientId ?? 'weblog',
    brokers: opts.brokers,
    connectionTimeout: opts.connectionTimeoutMs ?? 3000,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      if (!log) return;
      const { message, ...rest } = entry.log;
      const fields = { component: `kafkajs.${entry.namespace}`, ...rest };
      if (entry.level === logLevel.ERROR) {
        if (kafkajsErrorLevel(message, rest) === 'error') log.error(message, fields);
        else log.warn(message, fields);
      } else if (entry.level === logLevel.WARN) log.warn(message, fields);
    },
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
  });
}

function headerBytes(m: KafkaMessage, name: string): Buffer | undefined {
  const v = m.headers?.[name];
  if (v === undefined || v === null) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined || one === null ? undefined : typeof one === 'string' ? Buffer.from(one) : one;
}

/**
 * A decimal header read from its bytes (no string in between): 1 to 15
 * digits; -1 (unknown) when absent or anything else. Other producers write to
 * our topics too: "NaN" or a 30-digit value must not reach a UInt64 column.
 */
function decimalHeader(b: Buffer | undefined): number {
  if (b === undefined || b.length === 0 || b.length > 15) return -1;
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    const d = (b[i] as number) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Longest source header kept (S3 keys are at most 1,024 bytes). */
const MAX_SOURCE_BYTES = 4096;

/** The reject header, when it is one the shipper writes; anything else is ignored and the line parsed as usual. */
function rejectHeader(b: Buffer | undefined): ShipperRejectReason | undefined {
  if (b === undefined) return undefined;
  const v = b.toString('latin1');
  return (shipperRejectReasons as readonly string[]).includes(v) ? (v as ShipperRejectReason) : undefined;
}

/** The source header repeats on every line of an object: its text is decoded once per run of equal bytes. */
let lastSourceBytes: Buffer | undefined;
let lastSource = '';
function sourceHeader(b: Buffer | undefined): string {
  if (b === undefined) return '';
  if (b.length > MAX_SOURCE_BYTES) return b.toString('utf8', 0, MAX_SOURCE_BYTES);
  if (lastSourceBytes === undefined || !b.equals(lastSourceBytes)) {
    lastSource = b.toString('utf8');
    lastSourceBytes = Buffer.from(b); // a copy: b is a view into the whole fetch response
  }
  return lastSource;
}

function toLogMessage(m: KafkaMessage): LogMessage {
  return {
    rejectReason: rejectHeader(headerBytes(m, headerNames.reject)),
    value: m.value ? m.value.toString('utf8') : '',
    offset: Number(m.offset),
    source: sourceHeader(headerBytes(m, headerNames.source)),
    sourceOffset: decimalHeader(headerBytes(m, headerNames.sourceOffset)),
    timestamp: Number(m.timestamp),
  };
}

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

  constructor(kafka: Kafka, private readonly opts: ConsumerOptions) {
    validateTopic(opts.topic);
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: Math.max(16 * 1024 * 1024, (opts.maxBytesPerPartition ?? 4 * 1024 * 1024) * 4),
      minBytes: opts.minBytes ?? 64 * 1024,
      maxWaitTimeInMs: opts.maxWaitTimeMs ?? 500,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3000,
      retry: { retries: 10 },
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
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assigned = Object.entries(e.payload.memberAssignment).flatMap(([topic, parts]) => parts.map((partition) => ({ topic, partition })));
      this.assignmentCb?.(assigned);
    });
  }

  onAssignment(cb: (assigned: { topic: string; partition: number }[]) => void): void {
    this.assignmentCb = cb;
  }

  /** Called once when the handler failed for good (non-retriable): nothing of that batch is committed. */
  onFatal(cb: (err: unknown) => void): void {
    this.fatalCb = cb;
  }

  /**
   * For /healthz: a broker that hangs (accepts connections, answers nothing)
   * logged nothing for 45-60 s and /healthz stayed ok.
   */
  health(): { ok: boolean; detail: string } {
    const quiet = Date.now() - this.lastContact;
    if (this.busy === 0 && quiet > (this.opts.silenceMs ?? 20_000)) return { ok: false, detail: `no answer from the Kafka brokers for ${Math.round(quiet / 1000)} s` };
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
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.opts.topic, fromBeginning: this.opts.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConcurrently ?? 2,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (!isRunning() || isStale()) return;
        // A batch of transaction markers alone is handed on too: committing past the
        // marker is what lets the group's lag reach 0 (it stayed at 1 per partition).
        // (isEmptyControlRecord is in kafkajs 2.2.4's Batch, missing from its typings.)
        if (batch.messages.length === 0 && !(batch as unknown as { isEmptyControlRecord(): boolean }).isEmptyControlRecord()) return;
        const messages = batch.messages.map(toLogMessage);
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
          this.abort.abort(err);
          this.fatalCb?.(err);
          return;
        } finally {
          this.busy--;
          this.lastContact = Date.now(); // the next fetch is due from now
        }
        if (this.abort.signal.aborted) return; // shutting down mid-batch: commit nothing
        resolveOffset(String(lastOffset)); // kafkajs fetches on from the resolved offset
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(lastOffset + 1) }]);
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

export interface ProducerOptions {
  /** Compression of record batches (default gzip, built into kafkajs). */
  compression?: 'none' | 'gzip';
  /** Max in-flight requests per broker (default 1: keeps order with idempotence). */
  maxInFlightRequests?: number;
}

export class KafkaLogProducer implements LogProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  private readonly compression: CompressionTypes;

  constructor(kafka: Kafka, opts: ProducerOptions = {}) {
    // Idempotent producer: retries after a lost ack do not duplicate (KIP-98).
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: opts.maxInFlightRequests ?? 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // kafkajs wants unlimited retries with idempotence; the caller's own retry loop bounds the wait.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    this.compression = opts.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP;
  }

  async send(topic: string, messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.connected ??= this.producer.connect();
    await this.connected;
    try {
      await this.producer.send({ topic, acks: -1, compression: this.compression, messages });
    } catch (err) {
      throw new WeblogError('UNAVAILABLE', `produce to ${topic} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}

/** Creates the topic if missing (partitions, retention); harmless when it exists. */
/**
 * Creates the topic if missing, and returns only once every partition has a
 * leader. Another worker may have created it a moment before: "exists" is not
 * "usable" (two workers started together both exited 1 with "This server does
 * not host this topic-partition").
 */
export async function ensureTopic(kafka: Kafka, topic: string, opts: { partitions?: number; compacted?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin
        .createTopics({
          waitForLeaders: true,
          topics: [{ topic, numPartitions: opts.partitions ?? 6, ...(opts.compacted ? { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] } : {}) }],
        })
        .catch((err: Error & { type?: string }) => {
          if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
        });
    }
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
      // Leaders in the metadata are not enough (the broker may not lead them yet,
      // "not the leader for that topic-partition"): the leaders must answer ListOffsets.
      const ready = await admin
        .fetchTopicMetadata({ topics: [topic] })
        .then(async (m) => {
          const parts = m.topics[0]?.partitions ?? [];
          if (parts.length === 0 || !parts.every((p) => p.leader >= 0 && p.partitionErrorCode === 0)) return false;
          return (await admin.fetchTopicOffsets(topic)).length === parts.length;
        })
        .catch(() => false);
      if (ready) return;
      if (Date.now() > deadline) throw new WeblogError('UNAVAILABLE', `topic ${topic}: partitions still without a leader after ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

export interface ShipSinkOptions {
  /** Compacted topic holding one progress record per object (default weblog.ship-progress). */
  progressTopic: string;
  /** Stable per shipper replica: a restarted replica fences its predecessor and aborts its open transaction. */
  transactionalId: string;
  compression?: 'none' | 'gzip';
}

/**
 * Ships lines and their progress record in one Kafka transaction (as Kafka
 * Connect's exactly-once source does), so after a crash at any moment the
 * topic holds each line once and the stored progress points right after it.
 * Consumers read committed messages only (kafkajs' default isolation).
 */
export class KafkaShipSink implements ShipSink {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  private readonly compression: CompressionTypes;

  constructor(private readonly kafka: Kafka, private readonly opts: ShipSinkOptions) {
    validateTopic(opts.progressTopic, '--progress-topic');
    this.producer = kafka.producer({
      transactionalId: opts.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    this.compression = opts.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP;
  }

  private connect(): Promise<void> {
    // Connecting initialises the transactional id: it fences an older producer with the same id.
    this.connected ??= this.producer.connect();
    return this.connected;
  }

  async loadProgress(): Promise<Map<string, ShipProgress>> {
    await this.connect();
    const topic = this.opts.progressTopic;
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const pending = new Map(ends.filter((e) => Number(e.high) > 0).map((e) => [e.partition, Number(e.high)]));
    const progress = new Map<string, ShipProgress>();
    if (pending.size === 0) return progress;
    const consumer = this.kafka.consumer({ groupId: `${this.opts.transactionalId}.progress-reader.${Date.now()}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      let idle: NodeJS.Timeout | undefined;
      const bump = () => {
        clearTimeout(idle);
        // Transaction markers take offsets too; if the end is never "seen", stop after a quiet spell.
        idle = setTimeout(resolve, 3000);
      };
      bump();
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            bump();
            for (const m of batch.messages) {
              const key = m.key?.toString();
              if (!key) continue;
              if (m.value === null) progress.delete(key);
              else progress.set(key, JSON.parse(m.value.toString()) as ShipProgress);
            }
            if (Number(batch.lastOffset()) >= (pending.get(batch.partition) ?? 0) - 1) pending.delete(batch.partition);
            if (pending.size === 0) {
              clearTimeout(idle);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    return progress;
  }

  async ship(topic: string, messages: OutboundMessage[], progress: ShipProgress): Promise<void> {
    let tx: Awaited<ReturnType<Producer['transaction']>> | undefined;
    try {
      await this.connect();
      tx = await this.producer.transaction();
      if (messages.length > 0) await tx.send({ topic, acks: -1, compression: this.compression, messages });
      await tx.send({ topic: this.opts.progressTopic, acks: -1, messages: [{ key: progress.key, value: JSON.stringify(progress) }] });
      await tx.commit();
    } catch (err) {
      await tx?.abort().catch(() => undefined);
      // e.g. CONCURRENT_TRANSACTIONS while the broker still aborts a killed predecessor's transaction
      throw new WeblogError('UNAVAILABLE', `ship to ${topic} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async record(progress: ShipProgress): Promise<void> {
    await this.ship(this.opts.progressTopic, [], progress);
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}
