/** Real-broker helpers for tests: topics, producing lines, reading a topic whole. */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { inject } from 'vitest';

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

/** Produces lines round-robin over partitions (key = line number), with shipper-style headers. */
export async function produceLines(kafka: Kafka, topic: string, lines: string[], source = 'test.log'): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < lines.length; i += 5000) {
    await producer.send({
      topic,
      messages: lines.slice(i, i + 5000).map((value, j) => ({ key: String(i + j), value, headers: { 'weblog-source': source, 'weblog-offset': String(i + j) } })),
    });
  }
  await producer.disconnect();
}

/** Reads every message of a topic from the beginning until `expected` arrived or `timeoutMs` passed. */
export async function readTopic(kafka: Kafka, topic: string, expected: number, timeoutMs = 30_000): Promise<{ value: string; headers: Record<string, string>; partition: number; offset: string }[]> {
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
