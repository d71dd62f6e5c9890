/** Real-broker helpers for tests: topics, producing lines, reading a topic whole. */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, inject } from 'vitest';
import { uniqueName } from './names.js';
import { installAbortedRecordFilter } from '../../src/transport/kafkajs-aborted.js';
import { pushMessageLines } from '../../src/transport/message-lines.js';
import type { LogMessage } from '../../src/transport/types.js';

export function testKafka(): Kafka {
  // What tests read of a topic must be what weblog reads: kafkajs alone passes some aborted records on.
  installAbortedRecordFilter();
  return new Kafka({ clientId: 'weblog-test', brokers: inject('endpoints').kafkaBrokers, logLevel: logLevel.NOTHING });
}

export async function createTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

/** Messages in a topic: the sum of its partitions' end offsets. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Produces lines spread over partitions by key (key = line number), with
 * shipper-style headers, each line exactly once: the producer is idempotent
 * (a plain one writes a batch twice when a timed-out request is retried, and
 * tests that count rows would blame the processor), and the topic's end
 * offsets must have moved by exactly lines.length.
 */
export async function produceLines(kafka: Kafka, topic: string, lines: string[], source = 'test.log'): Promise<void> {
  const before = await endOffsets(kafka, topic);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < lines.length; i += 5000) {
    await producer.send({
      topic,
      acks: -1,
      messages: lines
        .slice(i, i + 5000)
        .map((value, j) => ({ key: String(i + j), value, headers: { 'weblog-source': source, 'weblog-offset': String(i + j) } })),
    });
  }
  await producer.disconnect();
  const added = (await endOffsets(kafka, topic)) - before;
  if (added !== lines.length) throw new Error(`test setup: topic ${topic} got ${added} messages for ${lines.length} lines`);
}

/**
 * Produces `lines` as a mix of the two shapes the processor reads: runs of
 * one-line messages (as Filebeat or Kafka Connect send them) and bundles of
 * 2..41 lines (as weblog ship sends them, some with CRLF), seeded, with byte
 * offsets in the headers. Returns the number of messages.
 */
export async function produceMixed(kafka: Kafka, topic: string, lines: string[], source = 'mixed.log'): Promise<number> {
  const before = await endOffsets(kafka, topic);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages: { key: string; value: string; headers: Record<string, string> }[] = [];
  let at = 0; // byte offset in the imagined source
  for (let i = 0, block = 0; i < lines.length; block++) {
    const n = block % 2 === 0 ? 1 + (block % 5) : 2 + ((block * 7) % 40);
    const take = lines.slice(i, i + n);
    if (block % 2 === 0) {
      for (const l of take) {
        messages.push({ key: String(messages.length), value: l, headers: { 'weblog-source': source, 'weblog-offset': String(at) } });
        at += Buffer.byteLength(l) + 1;
      }
    } else {
      const eol = block % 6 === 1 ? '\r\n' : '\n';
      const value = take.map((l) => l + eol).join('');
      messages.push({ key: String(messages.length), value, headers: { 'weblog-source': source, 'weblog-offset': String(at) } });
      at += Buffer.byteLength(value);
    }
    i += take.length;
  }
  // Sends of at most 256 KB stay under the broker's 1 MB record-batch limit.
  for (let i = 0; i < messages.length;) {
    let j = i;
    for (let bytes = 0; j < messages.length && bytes < 256 * 1024; j++) bytes += (messages[j] as { value: string }).value.length;
    await producer.send({ topic, acks: -1, messages: messages.slice(i, j) });
    i = j;
  }
  await producer.disconnect();
  const added = (await endOffsets(kafka, topic)) - before;
  if (added !== messages.length) throw new Error(`test setup: topic ${topic} got ${added} messages, ${messages.length} sent`);
  return messages.length;
}

type RawMessage = { value: Buffer | null; headers: Record<string, string>; partition: number; offset: string };

/**
 * Reads a topic from the beginning, handing each message to `take`, until
 * `take` returns true (enough read) or `timeoutMs` passed.
 */
async function readMessages(kafka: Kafka, topic: string, timeoutMs: number, take: (m: RawMessage) => boolean): Promise<void> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void consumer.run({
      eachMessage: async ({ message, partition }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
        if (take({ value: message.value, headers, partition, offset: message.offset })) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
}

/** Reads every message of a topic from the beginning until `expected` arrived or `timeoutMs` passed. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  expected: number,
  timeoutMs = 30_000,
): Promise<{ value: string; headers: Record<string, string>; partition: number; offset: string }[]> {
  const out: { value: string; headers: Record<string, string>; partition: number; offset: string }[] = [];
  await readMessages(kafka, topic, timeoutMs, (m) => {
    out.push({ value: m.value?.toString() ?? '', headers: m.headers, partition: m.partition, offset: m.offset });
    return out.length >= expected;
  });
  return out;
}

export type TopicLine = { value: string; headers: Record<string, string>; partition: number; offset: string; line: number };

/**
 * The lines of a raw topic, read as the processor reads them: each message
 * one line or a bundle, each line with its own weblog-offset (its byte offset
 * in the source). `expected` counts lines.
 */
export async function readTopicLines(kafka: Kafka, topic: string, expected: number, timeoutMs = 30_000): Promise<{ lines: TopicLine[]; messages: number }> {
  const lines: TopicLine[] = [];
  let messages = 0;
  await readMessages(kafka, topic, timeoutMs, (m) => {
    messages++;
    const out: LogMessage[] = [];
    const at = m.headers['weblog-offset'];
    pushMessageLines(m.value ?? Buffer.alloc(0), { offset: Number(m.offset), source: '', sourceOffset: at === undefined ? -1 : Number(at), timestamp: 0 }, out);
    for (const l of out)
      lines.push({
        value: l.value,
        headers: { ...m.headers, 'weblog-offset': String(l.sourceOffset) },
        partition: m.partition,
        offset: m.offset,
        line: l.line,
      });
    return lines.length >= expected;
  });
  return { lines, messages };
}

/**
 * What a test file on the broker keeps: its topics and cleanups, run (in
 * reverse) and deleted after the file.
 */
export function kafkaScope(): { kafka: Kafka; topics: string[]; cleanups: (() => Promise<void>)[] } {
  const scope = { kafka: testKafka(), topics: [] as string[], cleanups: [] as (() => Promise<void>)[] };
  afterAll(async () => {
    for (const c of scope.cleanups.reverse()) await c().catch(() => undefined);
    await deleteTopics(scope.kafka, scope.topics);
  });
  return scope;
}

/** A new topic of the scope (deleted after the file), with `partitions` partitions. */
export async function scopedTopic(scope: { kafka: Kafka; topics: string[] }, partitions: number): Promise<string> {
  const topic = uniqueName('raw');
  scope.topics.push(topic);
  await createTopic(scope.kafka, topic, partitions);
  return topic;
}
