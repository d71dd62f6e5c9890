/** Real-broker helpers for tests: topics, producing lines, reading a topic whole. */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, inject } from 'vitest';
import { uniqueName } from './names.js';

export function testKafka(): Kafka {
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
async function endOffsets(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return ends.reduce((n, p) => n + Number(p.high), 0);
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

/** Reads every message of a topic from the beginning until `expected` arrived or `timeoutMs` passed. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  expected: number,
  timeoutMs = 30_000,
): Promise<{ value: string; headers: Record<string, string>; partition: number; offset: string }[]> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: { value: string; headers: Record<string, string>; partition: number; offset: string }[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void consumer.run({
      eachMessage: async ({ message, partition }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
        out.push({ value: message.value?.toString() ?? '', headers, partition, offset: message.offset });
        if (out.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
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
