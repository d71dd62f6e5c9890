/**
 * Kafka on kafkajs: the client, topic names and topics. kafkajs has had no
 * release since 2023, so it stays under src/transport/ (kafka*.ts): nothing
 * else imports it.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs, { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { kafkajsErrorLevel } from './kafka-log.js';
import { installFastRecordDecoder } from './kafkajs-decoder.js';

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

const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);

/**
 * kafkajs' gzip codec compresses at zlib's default level 6; level 1 costs
 * about 1 µs less CPU per log line shipped (measured: 3.1-3.4 vs 4.1-4.4 µs
 * per line for the whole shipper) for a slightly larger batch. Decompression
 * is the same for every level. Installed for the whole process.
 */
export function installFastGzip(): void {
  // CompressionCodecs is not among the names Node finds in kafkajs' CommonJS exports: read it from the default export.
  kafkajs.CompressionCodecs[CompressionTypes.GZIP] = () => ({
    compress: async (encoder: { buffer: Buffer }) => gzip(encoder.buffer, { level: 1 }),
    decompress: async (buffer: Buffer) => unzip(buffer),
  });
}

export function createKafka(opts: KafkaOptions): Kafka {
  if (opts.brokers.length === 0) throw new WeblogError('CONFIG_INVALID', '--brokers: expected HOST:PORT[,HOST:PORT...]');
  for (const b of opts.brokers) if (!/^[^:\s]+:\d+$/.test(b)) throw new WeblogError('CONFIG_INVALID', `--brokers: "${b}" is not HOST:PORT`);
  const log = opts.logger;
  // Before kafkajs loads its Fetch decoders (on the first fetch): see kafkajs-decoder.ts.
  const decoder = installFastRecordDecoder();
  installFastGzip();
  if (decoder === 'too-late' || decoder === 'unsupported-version')
    log?.warn(`kafkajs' own record decoder stays in use (${decoder}): consuming costs about twice the CPU`, { component: 'kafka' });
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

/**
 * Settings every weblog producer shares: idempotent (a retry after a lost ack
 * does not duplicate, KIP-98), one request in flight (keeps order), no topic
 * created by accident, and unlimited kafkajs retries, which idempotence wants
 * (the caller's own retry loop bounds the wait).
 */
export function producerConfig(extra: { transactionalId?: string; maxInFlightRequests?: number } = {}) {
  return {
    idempotent: true,
    maxInFlightRequests: extra.maxInFlightRequests ?? 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
    ...(extra.transactionalId ? { transactionalId: extra.transactionalId } : {}),
  };
}

/** gzip unless asked otherwise (built into kafkajs). */
export const compressionOf = (c: 'none' | 'gzip' | undefined): CompressionTypes => (c === 'none' ? CompressionTypes.None : CompressionTypes.GZIP);

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
          topics: [
            { topic, numPartitions: opts.partitions ?? 6, ...(opts.compacted ? { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] } : {}) },
          ],
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
      if (Date.now() > deadline)
        throw new WeblogError('UNAVAILABLE', `topic ${topic}: partitions still without a leader after ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}
