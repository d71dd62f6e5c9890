/**
 * ensureTopic from several workers at once, on the real broker: each call
 * returns only once every partition has a leader, so a produce right after it
 * needs no retry (two workers started together once both exited 1 with "This
 * server does not host this topic-partition").
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKafka, ensureTopic } from '../../../src/transport/kafka.js';
import { deleteTopics } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';

const topics: string[] = [];
const plain = new Kafka({ clientId: 'weblog-test', brokers: inject('endpoints').kafkaBrokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
afterAll(() => deleteTopics(plain, topics));

describe('ensureTopic', () => {
  it('called by four workers at once, returns to each a topic whose every partition takes a produce at once', async () => {
    for (let round = 0; round < 4; round++) {
      const topic = uniqueName('ensure');
      topics.push(topic);
      const workers = Array.from({ length: 4 }, () => createKafka({ brokers: inject('endpoints').kafkaBrokers }));
      await Promise.all(
        workers.map(async (k, i) => {
          await ensureTopic(k, topic, { partitions: 8 });
          // Right away, without retries: every partition must have a leader for this worker.
          const producer = k.producer({ retry: { retries: 0 }, allowAutoTopicCreation: false });
          await producer.connect();
          try {
            await producer.send({ topic, acks: -1, messages: Array.from({ length: 8 }, (_, p) => ({ partition: p, value: `w${i}` })) });
          } finally {
            await producer.disconnect();
          }
        }),
      );
      const admin = plain.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      expect(ends.map((e) => Number(e.high))).toEqual(new Array(8).fill(4));
    }
  }, 120_000);
});
