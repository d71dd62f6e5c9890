/** The writing side of Kafka: the dead-letter producer, and the shipper's transactional sink. */
import type { CompressionTypes, Kafka, Producer } from 'kafkajs';
import { WeblogError } from '../errors.js';
import { kafkaError } from './kafka-errors.js';
import { compressionOf, producerConfig, validateTopic } from './kafka.js';
import type { LogProducer, OutboundMessage, ProgressFilter, ShipProgress, ShipSink } from './types.js';

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
    this.producer = kafka.producer(producerConfig({ maxInFlightRequests: opts.maxInFlightRequests }));
    this.compression = compressionOf(opts.compression);
  }

  async send(topic: string, messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      this.connected ??= this.producer.connect().catch((err: unknown) => {
        this.connected = undefined; // the next send connects again
        throw err;
      });
      await this.connected;
      await this.producer.send({ topic, acks: -1, compression: this.compression, messages });
    } catch (err) {
      throw kafkaError(err, `produce to ${topic}`);
    }
  }

  private closing: Promise<void> | undefined;

  /** Idempotent; a connect that failed leaves nothing to close. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const connected = this.connected;
      if (connected && (await connected.then(() => true).catch(() => false))) await this.producer.disconnect();
    })();
    return this.closing;
  }
}

/** A progress record as the shipper wrote it; anything else stops the shipper, naming where it is (guessing could ship objects twice). */
function progressRecord(topic: string, partition: number, offset: string, key: string, value: Buffer): ShipProgress {
  let p: Partial<ShipProgress> | undefined;
  try {
    p = JSON.parse(value.toString('utf8')) as Partial<ShipProgress>;
  } catch {
    p = undefined;
  }
  if (
    !p ||
    typeof p !== 'object' ||
    p.key !== key ||
    typeof p.etag !== 'string' ||
    typeof p.offset !== 'number' ||
    typeof p.lines !== 'number' ||
    typeof p.done !== 'boolean'
  ) {
    throw new WeblogError(
      'STATE_INVALID',
      `progress topic ${topic}: the record for "${key}" at partition ${partition} offset ${offset} is not one weblog wrote; delete it (a null value for that key) or use a new --progress-topic`,
    );
  }
  return p as ShipProgress;
}

/** Raw bytes per produce request of the shipper: under the broker's default max.message.bytes with room to spare. */
export const MAX_REQUEST_BYTES = 768 * 1024;

/** Consecutive runs of `messages` of at most MAX_REQUEST_BYTES of values each (a larger message alone). */
export function requestsOf(messages: OutboundMessage[]): OutboundMessage[][] {
  const out: OutboundMessage[][] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const v = (messages[i] as OutboundMessage).value;
    const size = typeof v === 'string' ? v.length * 3 : v.length;
    if (i > start && bytes + size > MAX_REQUEST_BYTES) {
      out.push(messages.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < messages.length) out.push(start === 0 ? messages : messages.slice(start));
  return out;
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
  /**
   * Per partition of the log topic, the offset of the last record batch this sink committed. A reader that
   * asks for a partition's end right after a commit can still get the old one (the read-committed end moves
   * once the transaction markers are written): the end is current only once it is past this.
   */
  readonly committedBatches = new Map<number, number>();
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  private readonly compression: CompressionTypes;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: ShipSinkOptions,
  ) {
    validateTopic(opts.progressTopic, '--progress-topic');
    this.producer = kafka.producer(producerConfig({ transactionalId: opts.transactionalId }));
    this.compression = compressionOf(opts.compression);
  }

  /** The compacted topic its progress records go to. */
  get progressTopic(): string {
    return this.opts.progressTopic;
  }

  private connect(): Promise<void> {
    // Connecting initialises the transactional id, which fences an older producer with the same id and aborts its
    // open transaction. kafkajs does that only at the first transaction(), not at connect(): an empty transaction
    // begun and aborted here does it (no request beyond InitProducerId), so the progress read next is final.
    this.connected ??= (async () => {
      await this.producer.connect();
      const tx = await this.producer.transaction();
      await tx.abort();
    })().catch((err: unknown) => {
      this.connected = undefined; // the next attempt connects again
      throw err;
    });
    return this.connected;
  }

  async loadProgress(filter?: ProgressFilter): Promise<Map<string, ShipProgress>> {
    try {
      return await this.readProgress(filter);
    } catch (err) {
      throw kafkaError(err, `read the ship progress from ${this.opts.progressTopic}`);
    }
  }

  private async readProgress(filter?: ProgressFilter): Promise<Map<string, ShipProgress>> {
    await this.connect();
    return readProgressTopic(this.kafka, this.opts.progressTopic, `${this.opts.transactionalId}.progress-reader`, filter);
  }

  /** Initialises the transactional id now: an older producer with it is fenced, its open transaction aborted. */
  async fence(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      throw kafkaError(err, `take over the transactional id ${this.opts.transactionalId}`);
    }
  }

  async ship(topic: string, messages: OutboundMessage[], progress: ShipProgress, _from?: number): Promise<void> {
    let tx: Awaited<ReturnType<Producer['transaction']>> | undefined;
    try {
      await this.connect();
      tx = await this.producer.transaction();
      // One transaction, several produce requests: kafkajs puts a send's messages for one partition into one
      // record batch, which the broker refuses over max.message.bytes (1 MB by default) even uncompressed.
      const batches = new Map<number, number>();
      for (const part of requestsOf(messages)) {
        for (const r of await tx.send({ topic, acks: -1, compression: this.compression, messages: part })) {
          batches.set(r.partition, Math.max(batches.get(r.partition) ?? -1, Number(r.baseOffset)));
        }
      }
      await tx.send({ topic: this.opts.progressTopic, acks: -1, messages: [{ key: progress.key, value: JSON.stringify(progress) }] });
      await tx.commit();
      for (const [partition, offset] of batches) this.committedBatches.set(partition, Math.max(this.committedBatches.get(partition) ?? -1, offset));
    } catch (err) {
      await tx?.abort().catch(() => undefined);
      // e.g. CONCURRENT_TRANSACTIONS while the broker still aborts a killed predecessor's transaction (retriable);
      // a refusal (no permission, the topic deleted, a message over the limit) stops the shipper
      throw kafkaError(err, `ship to ${topic}`);
    }
  }

  async record(progress: ShipProgress): Promise<void> {
    await this.ship(this.opts.progressTopic, [], progress, progress.offset);
  }

  private closing: Promise<void> | undefined;

  /** Idempotent; a connect that failed leaves nothing to close. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const connected = this.connected;
      if (connected && (await connected.then(() => true).catch(() => false))) await this.producer.disconnect();
    })();
    return this.closing;
  }
}

/** How long a progress read waits: a quiet spell (no batch, from the first one) ends it; past the deadline it fails. */
export const progressReadTiming = { quietMs: 3000, deadlineMs: 300_000 };

/** The progress records of the progress topic (newest per key, those `filter` keeps), read committed from its start to its end. */
export async function readProgressTopic(
  kafka: Kafka,
  topic: string,
  groupPrefix: string,
  filter?: ProgressFilter,
  timing: { quietMs: number; deadlineMs: number } = progressReadTiming,
): Promise<Map<string, ShipProgress>> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string }[];
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const pending = new Map(ends.filter((e) => Number(e.high) > 0).map((e) => [e.partition, Number(e.high)]));
  const progress = new Map<string, ShipProgress>();
  if (pending.size === 0) return progress;
  const consumer = kafka.consumer({ groupId: `${groupPrefix}.${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      let idle: NodeJS.Timeout | undefined;
      const done = (err?: Error) => {
        clearTimeout(idle);
        clearTimeout(deadline);
        if (err) reject(err);
        else resolve();
      };
      const deadline = setTimeout(
        () => done(new WeblogError('UNAVAILABLE', `progress topic ${topic}: not read to its end within ${Math.round(timing.deadlineMs / 1000)} s`)),
        timing.deadlineMs,
      );
      // The quiet spell counts from the first batch, never from the start: joining the reader's group can take
      // seconds (a busy broker; group.initial.rebalance.delay.ms, 3 s by default), and a read that ended before
      // its first fetch returned no records: the shipper shipped every object again from its start.
      const bump = () => {
        clearTimeout(idle);
        idle = setTimeout(() => done(), timing.quietMs);
      };
      const reached = (partition: number, lastOffset: string) => {
        if (Number(lastOffset) >= (pending.get(partition) ?? 0) - 1) pending.delete(partition);
        if (pending.size === 0) done();
      };
      // Every batch, also one of transaction markers alone (which never reaches eachBatch): a partition ends at a marker.
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        bump();
        reached(e.payload.partition, e.payload.lastOffset);
      });
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            bump();
            try {
              for (const m of batch.messages) {
                const key = m.key?.toString();
                if (!key || (filter?.key && !filter.key(key))) continue;
                if (m.value === null) {
                  progress.delete(key);
                  continue;
                }
                const p = progressRecord(topic, batch.partition, m.offset, key, m.value);
                if (filter?.record && !filter.record(p)) progress.delete(key);
                else progress.set(key, p);
              }
            } catch (err) {
              done(err as Error); // not kafkajs' to retry: the record stays what it is
            }
          },
        })
        .catch((err: unknown) => done(err as Error));
    });
  } finally {
    await consumer.disconnect();
  }
  return progress;
}
