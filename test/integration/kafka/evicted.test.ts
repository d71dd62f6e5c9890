/**
 * A replica the group dropped while it stored a batch (an INSERT longer than
 * the session timeout, a hung server) must rejoin and take the batch again,
 * not stop. Its commit then fails with UNKNOWN_MEMBER_ID wrapped by kafkajs'
 * retrier, which kafkajs' runner does not recognise: the consumer crashed for
 * good (seen in the cluster test: the processor exited 1 after a long quorum
 * INSERT; before the CRASH handler it sat idle with /healthz ok).
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../../src/transport/kafka.js';
import { KafkaLogConsumer } from '../../../src/transport/kafka-consumer.js';
import { createTopic, deleteTopics, produceLines, testKafka } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('a consumer dropped from its group while storing a batch', () => {
  it('rejoins and gets the batch again; nothing is fatal', async () => {
    const topic = uniqueName('evicted');
    await createTopic(testKafka(), topic, 1);
    cleanups.push(() => deleteTopics(testKafka(), [topic]));
    await produceLines(testKafka(), topic, ['a', 'b', 'c']);
    const consumer = new KafkaLogConsumer(createKafka({ brokers: inject('endpoints').kafkaBrokers }), {
      topic,
      groupId: topic,
      sessionTimeoutMs: 6000,
      maxWaitTimeMs: 100,
      minBytes: 1,
      // Handed on by the fetch itself (a full batch): kafkajs sends no heartbeat while the fetch's call runs.
      maxBatchLines: 1,
    });
    cleanups.push(() => consumer.destroy());
    let fatal: unknown;
    consumer.onFatal((e) => (fatal = e));
    const calls: number[] = [];
    let done!: () => void;
    const again = new Promise<void>((r) => (done = r));
    await consumer.start(async (b) => {
      calls.push(b.messages[0]?.offset ?? -1);
      // The first time, store for longer than the session timeout without a heartbeat: the group drops us.
      if (calls.length === 1) await new Promise((r) => setTimeout(r, 9000));
      else done();
    });
    await Promise.race([again, new Promise((r) => setTimeout(r, 50_000))]);
    expect(fatal).toBeUndefined();
    expect(calls.slice(0, 2)).toEqual([0, 0]); // the same batch, delivered again after the rejoin
  }, 70_000);
});
