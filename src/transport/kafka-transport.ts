/** The Transport over Kafka: the raw topic, the shipper's progress topic, the dead-letter topic and a consumer group. */
import type { Logger } from '../observe/log.js';
import { sleep } from '../retry.js';
import { checkTopic, createKafka, ensureTopic, validateTopic, type KafkaAuth } from './kafka.js';
import { kafkaError } from './kafka-errors.js';
import { KafkaLogConsumer, type ConsumerOptions } from './kafka-consumer.js';
import { KafkaLogProducer, KafkaShipSink } from './kafka-producers.js';
import { KafkaShipGroup } from './kafka-ship-group.js';
import { KafkaNotificationQueue } from './kafka-notifications.js';
import type { Kafka } from 'kafkajs';
import type { LogProducer, ShipSink, Transport } from './types.js';

export interface KafkaTransportConfig {
  brokers: string[];
  /** SASL and TLS (see checkKafkaAuth). */
  auth?: KafkaAuth | undefined;
  /** Topic of raw lines. */
  topic?: string;
  /** Consumer group of the processors. */
  group?: string;
  /** Compacted topic with the shipper's progress per object. */
  progressTopic?: string;
  /** Topic for rejected lines; '' for none. */
  deadLetterTopic?: string;
  /** Transactional id of the shipper: stable per replica, so a restart fences its predecessor. */
  transactionalId?: string;
  /** Compression of the shipper's record batches (default gzip). */
  compression?: 'none' | 'gzip';
  /** Create missing topics (default true). */
  createTopics?: boolean;
  /** Partitions of the raw topic when created here. */
  partitions?: number;
  /** Fetch and group settings of the consumer. */
  consumer?: Pick<ConsumerOptions, 'partitionsConcurrently' | 'maxBytesPerPartition' | 'maxBatchLines' | 'maxWaitTimeMs' | 'minBytes' | 'sessionTimeoutMs'>;
  log?: Logger | undefined;
}

/** One place for the defaults of the Kafka side (the CLI shows these). */
export const kafkaDefaults = {
  topic: 'weblog.raw',
  group: 'weblog',
  progressTopic: 'weblog.ship-progress',
  deadLetterTopic: 'weblog.rejects',
  createTopics: true,
  partitions: 6,
} as const;

export class KafkaTransport implements Transport {
  readonly topic: string;
  private readonly kafka: Kafka;
  private readonly group: string;
  private readonly progressTopic: string;
  readonly deadLetterTopic: string;
  private theConsumer: KafkaLogConsumer | undefined;
  private dlq: KafkaLogProducer | undefined;
  /** The ship sinks handed out: caughtUp() waits for the ends to pass what they committed. */
  private readonly sinks: { readonly committedBatches: ReadonlyMap<number, number>; close(): Promise<void> }[] = [];

  constructor(private readonly cfg: KafkaTransportConfig) {
    this.topic = validateTopic(cfg.topic ?? kafkaDefaults.topic, '--topic');
    this.group = cfg.group ?? kafkaDefaults.group;
    this.progressTopic = validateTopic(cfg.progressTopic ?? kafkaDefaults.progressTopic, '--progress-topic');
    this.deadLetterTopic = cfg.deadLetterTopic ?? kafkaDefaults.deadLetterTopic;
    if (this.deadLetterTopic) validateTopic(this.deadLetterTopic, '--dead-letter-topic');
    this.kafka = createKafka({ brokers: cfg.brokers, auth: cfg.auth, logger: cfg.log });
  }

  describe(): string {
    return `kafka ${this.cfg.brokers.join(',')} topic ${this.topic}`;
  }

  async prepare(needs: { ship?: boolean; process?: boolean }): Promise<void> {
    if (this.cfg.createTopics === false) {
      // Not created here: each must exist, or the worker stops now, naming it (kafkajs waited for ever).
      await checkTopic(this.kafka, this.topic, 'topic');
      if (needs.ship) await checkTopic(this.kafka, this.progressTopic, 'progress topic');
      if (needs.process && this.deadLetterTopic) await checkTopic(this.kafka, this.deadLetterTopic, 'dead-letter topic');
      return;
    }
    await ensureTopic(this.kafka, this.topic, { partitions: this.cfg.partitions ?? kafkaDefaults.partitions });
    if (needs.ship) await ensureTopic(this.kafka, this.progressTopic, { partitions: 1, compacted: true });
    if (needs.process && this.deadLetterTopic) await ensureTopic(this.kafka, this.deadLetterTopic, { partitions: 1 });
  }

  shipSink(): ShipSink {
    return this.addSink(
      new KafkaShipSink(this.kafka, {
        progressTopic: this.progressTopic,
        transactionalId: this.cfg.transactionalId ?? `weblog-ship-${this.progressTopic}`,
        compression: this.cfg.compression,
      }),
    );
  }

  private addSink<T extends KafkaShipSink | KafkaShipGroup>(sink: T): T {
    this.sinks.push(sink);
    return sink;
  }

  /** A shipper group's membership and its ship sink: one transactional id per slot (kafka-ship-group.ts). */
  shipGroup(
    o: { group: string; slots?: number | undefined; sessionTimeoutMs?: number | undefined },
    slotOf: (key: string, slots: number) => number,
  ): KafkaShipGroup {
    const g = new KafkaShipGroup(
      this.kafka,
      { ...o, progressTopic: this.progressTopic, compression: this.cfg.compression, createTopics: this.cfg.createTopics, log: this.cfg.log },
      slotOf,
    );
    return this.addSink(g);
  }

  /**
   * S3 event notifications from `topic` on these brokers (kafka-notifications.ts), read by the consumer group of
   * this shipper's share (`share`: its static replica): every share reads every message. Closed by the caller.
   */
  notificationQueue(topic: string, share: string): KafkaNotificationQueue {
    return new KafkaNotificationQueue(this.kafka, { topic, groupId: `weblog-notify.${this.progressTopic}.${share}` });
  }

  consumer(): KafkaLogConsumer {
    this.theConsumer ??= new KafkaLogConsumer(this.kafka, { topic: this.topic, groupId: this.group, log: this.cfg.log, ...this.cfg.consumer });
    return this.theConsumer;
  }

  deadLetters(): LogProducer | undefined {
    if (!this.deadLetterTopic) return undefined;
    this.dlq ??= new KafkaLogProducer(this.kafka);
    return this.dlq;
  }

  async consumedAll(stop: () => boolean): Promise<void> {
    while (!stop() && !(await this.caughtUp())) await sleep(250);
  }

  /** True when the group has committed every partition to its end (see partitionsCaughtUp). */
  async caughtUp(): Promise<boolean> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(this.topic);
      const [committed] = await admin.fetchOffsets({ groupId: this.group, topics: [this.topic] });
      const byPartition = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      const shipped = new Map<number, number>();
      for (const sink of this.sinks) for (const [p, o] of sink.committedBatches) shipped.set(p, Math.max(shipped.get(p) ?? -1, o));
      return partitionsCaughtUp(
        ends.map((e) => ({ partition: e.partition, end: Number(e.high) })),
        byPartition,
        shipped,
      );
    } catch (err) {
      throw kafkaError(err, `read the offsets of group ${this.group}`);
    } finally {
      await admin.disconnect();
    }
  }

  /** Drains the consumer (if one was made), then closes every producer it handed out. Idempotent. */
  async close(): Promise<void> {
    await this.theConsumer?.close();
    await Promise.all([...this.sinks.map((s) => s.close()), this.dlq?.close()]);
  }

  /** Aborts the consumer's batch in flight (nothing committed), then closes the producers. */
  async destroy(): Promise<void> {
    await this.theConsumer?.destroy();
    await Promise.all([...this.sinks.map((s) => s.close()), this.dlq?.close()]);
  }
}

/**
 * Whether a group has consumed a topic: every partition's committed offset at its end (the group commits past
 * transaction markers; a producer without transactions ends on a message, so >= end). Read right after a
 * commit, an end can still be the old one (seen: every end 0, so a run ended with 0 of 10,000 lines stored), so
 * an end counts only once it is past the last batch `shipped` to that partition.
 */
export function partitionsCaughtUp(
  ends: { partition: number; end: number }[],
  committed: ReadonlyMap<number, number>,
  shipped: ReadonlyMap<number, number>,
): boolean {
  return ends.every((e) => e.end > (shipped.get(e.partition) ?? -1) && (e.end === 0 || (committed.get(e.partition) ?? -1) >= e.end));
}
