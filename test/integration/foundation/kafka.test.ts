import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { uniqueName } from '../../helpers/names.js';

describe('real Kafka broker', () => {
  const kafka = new Kafka({ clientId: 'weblog-test', brokers: inject('endpoints').kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const topic = uniqueName('foundation');

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('produces to a topic and consumes every message back in a consumer group', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    await producer.send({ topic, messages: sent.map((value, i) => ({ key: String(i % 7), value })) });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: string[] = [];
    const partitions = new Set<number>();
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message, partition }) => {
            received.push(message.value?.toString() ?? '');
            partitions.add(partition);
            if (received.length === sent.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(received.sort()).toEqual([...sent].sort());
    expect(partitions.size).toBe(3);
  });
});
