/**
 * Kafka on kafkajs: the client, topic names and topics. kafkajs has had no
 * release since 2023, so it stays under src/transport/ (kafka*.ts): nothing
 * else imports it.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs, { CompressionTypes, Kafka, logLevel, Partitioners, type SASLOptions } from 'kafkajs';
import { WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { isPermanentKafkaError, kafkaError, kafkaErrorType } from './kafka-errors.js';
import { kafkajsErrorLevel } from './kafka-log.js';
import { installAbortedRecordFilter } from './kafkajs-aborted.js';
import { installFastRecordDecoder } from './kafkajs-decoder.js';
import { installExactProduceEncoder } from './kafkajs-encoder.js';

/** SASL mechanisms kafkajs speaks, as --kafka-sasl names them. */
export const saslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof saslMechanisms)[number];

/** How to log in to the brokers (managed Kafka: SASL over TLS). */
export interface KafkaAuth {
  /** SASL mechanism; undefined: no SASL. */
  sasl?: { mechanism: SaslMechanism; username: string; password: string } | undefined;
  /** TLS to the brokers (the system's CAs). */
  tls?: boolean | undefined;
}

/** Refuses an incomplete login before any connection, naming what is missing. */
export function checkKafkaAuth(auth: {
  sasl?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  tls?: boolean | undefined;
}): KafkaAuth {
  if (auth.sasl === undefined || auth.sasl === '' || auth.sasl === 'none') {
    if (auth.username)
      throw new WeblogError('CONFIG_INVALID', '--kafka-user (KAFKA_USERNAME) is set but --kafka-sasl is not: pick plain, scram-sha-256 or scram-sha-512');
    return { tls: auth.tls };
  }
  const mechanism = auth.sasl.toLowerCase();
  if (!(saslMechanisms as readonly string[]).includes(mechanism))
    throw new WeblogError('CONFIG_INVALID', `--kafka-sasl: expected ${saslMechanisms.join(', ')} or none, got "${auth.sasl}"`);
  if (!auth.username) throw new WeblogError('CONFIG_INVALID', `--kafka-sasl ${mechanism} needs a user name: --kafka-user or KAFKA_USERNAME`);
  if (auth.password === undefined || auth.password === '')
    throw new WeblogError(
      'CONFIG_INVALID',
      `--kafka-sasl ${mechanism} needs a password in the environment variable KAFKA_PASSWORD (never on the command line)`,
    );
  return { sasl: { mechanism: mechanism as SaslMechanism, username: auth.username, password: auth.password }, tls: auth.tls };
}

export interface KafkaOptions {
  brokers: string[];
  auth?: KafkaAuth | undefined;
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
  // Before the first Produce request: see kafkajs-encoder.ts.
  installExactProduceEncoder();
  installFastGzip();
  // kafkajs passes some records of aborted transactions on: see kafkajs-aborted.ts.
  installAbortedRecordFilter();
  if (decoder === 'too-late' || decoder === 'unsupported-version')
    log?.warn(`kafkajs' own record decoder stays in use (${decoder}): consuming costs about twice the CPU`, { component: 'kafka' });
  return new Kafka({
    clientId: opts.clientId ?? 'weblog',
    brokers: opts.brokers,
    ...(opts.auth?.tls ? { ssl: true } : {}),
    ...(opts.auth?.sasl ? { sasl: opts.auth.sasl as SASLOptions } : {}),
    connectionTimeout: opts.connectionTimeoutMs ?? 3000,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      if (!log) return;
      const { message, ...rest } = entry.log;
      const fields = { component: `kafkajs.${entry.namespace}`, ...rest };
      if (entry.level === logLevel.ERROR) {
        if (kafkajsErrorLevel(message, rest) === 'error') log.error(message, fields);
        else log.warn(message, fields);
      } else if (entry.level === logLevel.WARN) {
        // Our producers bound kafkajs' retries on purpose (see producerRetry): a failed transaction is aborted and sent again whole.
        if (message.startsWith('Limiting retries for the idempotent producer')) return;
        log.warn(message, fields);
      }
    },
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
  });
}

/**
 * kafkajs' own retries of a produce request: about 6 s, then the error comes
 * to the caller, which retries what is retriable with its backoff and stops on
 * a refusal. Unlimited kafkajs retries (as before) hid a deleted topic or a
 * missing permission for ever: the send never returned (seen: still waiting
 * after 20 s on a topic that did not exist). A shipper's retry is a new
 * transaction (the failed one is aborted), so nothing is written twice; the
 * dead-letter producer is at least once anyway (see docs).
 */
export const producerRetry = { retries: 5, initialRetryTime: 200, maxRetryTime: 3000 } as const;

/**
 * Settings every weblog producer shares: idempotent (a retry after a lost ack
 * does not duplicate, KIP-98), one request in flight (keeps order), no topic
 * created by accident, and bounded kafkajs retries (see producerRetry).
 */
export function producerConfig(extra: { transactionalId?: string; maxInFlightRequests?: number } = {}) {
  return {
    idempotent: true,
    maxInFlightRequests: extra.maxInFlightRequests ?? 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: producerRetry,
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
  try {
    await ensureTopicOnce(kafka, topic, opts);
  } catch (err) {
    throw kafkaError(err, `create topic ${topic}`);
  }
}

/** Fails when the topic does not exist (with --no-create-topics): REFUSED naming it, before any work starts. */
export async function checkTopic(kafka: Kafka, topic: string, what: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = await admin.listTopics();
    if (!existing.includes(topic))
      throw new WeblogError('REFUSED', `${what} ${topic} does not exist on the brokers and --no-create-topics is set: create it, or let weblog create it`);
  } catch (err) {
    throw kafkaError(err, `look up topic ${topic}`);
  } finally {
    await admin.disconnect();
  }
}

async function ensureTopicOnce(kafka: Kafka, topic: string, opts: { partitions?: number; compacted?: boolean; timeoutMs?: number }): Promise<void> {
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
        .catch((err: unknown) => {
          if (isPermanentKafkaError(err) && kafkaErrorType(err) !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err; // no permission: say so now
          return false;
        });
      if (ready) return;
      if (Date.now() > deadline)
        throw new WeblogError('UNAVAILABLE', `topic ${topic}: partitions still without a leader after ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}
