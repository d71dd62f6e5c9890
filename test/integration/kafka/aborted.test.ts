/**
 * Records of aborted transactions never reach weblog, on the real broker,
 * however the aborted transactions interleave: two transactional producers
 * write into one partition, both abort, a third commits. kafkajs alone
 * passed an aborted record on when a transaction begun first was aborted
 * last, and when a fetch started inside two aborted transactions (a shipper
 * group does both: a slot fenced while another slot's transaction is open).
 */
import type { Kafka } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../../src/transport/kafka.js';
import { KafkaLogConsumer } from '../../../src/transport/kafka-consumer.js';
import { readProgressTopic } from '../../../src/transport/kafka-producers.js';
import type { LogBatch } from '../../../src/transport/types.js';
import { createTopic, deleteTopics, readTopic, testKafka } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { waitUntil } from '../../helpers/wait.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const weblogKafka = () => createKafka({ brokers: inject('endpoints').kafkaBrokers });

async function topicOf(name: string): Promise<string> {
  const topic = uniqueName(name);
  await createTopic(testKafka(), topic, 1);
  cleanups.push(() => deleteTopics(testKafka(), [topic]));
  return topic;
}

type Message = { key?: string; value: string };

/**
 * Into partition 0 of `topic`: `committed` in a transaction that commits;
 * then producers A and B interleave `a[i]`, `b[i]` in two open transactions,
 * which abort in `order`; then `after` commits.
 */
async function interleaveAborted(
  kafka: Kafka,
  topic: string,
  m: { committed: Message[]; a: Message[]; b: Message[]; after: Message[] },
  order: 'a-first' | 'b-first',
): Promise<void> {
  const producer = (name: string) => {
    const p = kafka.producer({ transactionalId: uniqueName(name), idempotent: true, maxInFlightRequests: 1 });
    cleanups.push(() => p.disconnect());
    return p;
  };
  const [pc, pa, pb] = [producer('committer'), producer('aborted-a'), producer('aborted-b')];
  for (const p of [pc, pa, pb]) await p.connect();
  const commit = async (messages: Message[]) => {
    if (messages.length === 0) return;
    const tx = await pc.transaction();
    await tx.send({ topic, messages: messages.map((x) => ({ ...x, partition: 0 })) });
    await tx.commit();
  };
  await commit(m.committed);
  const ta = await pa.transaction();
  const tb = await pb.transaction();
  for (let i = 0; i < Math.max(m.a.length, m.b.length); i++) {
    const a = m.a[i];
    const b = m.b[i];
    if (a) await ta.send({ topic, messages: [{ ...a, partition: 0 }] });
    if (b) await tb.send({ topic, messages: [{ ...b, partition: 0 }] });
  }
  if (order === 'a-first') {
    await ta.abort();
    await tb.abort();
  } else {
    await tb.abort();
    await ta.abort();
  }
  await commit(m.after);
}

/** The lines weblog's consumer hands on, for group `group` (its committed offset decides where it starts). */
async function consume(topic: string, group: string, expected: number): Promise<string[]> {
  const c = new KafkaLogConsumer(weblogKafka(), { topic, groupId: group, minBytes: 1, maxWaitTimeMs: 200 });
  cleanups.push(() => c.destroy());
  const lines: string[] = [];
  await c.start(async (b: LogBatch) => {
    for (const m of b.messages) lines.push(m.value);
  });
  await waitUntil('the committed lines', async () => (lines.length >= expected ? true : undefined), 30_000, 50);
  await new Promise((r) => setTimeout(r, 1500)); // anything more would show now
  await c.close();
  return lines;
}

async function startAt(group: string, topic: string, offset: number): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: String(offset) }] });
  } finally {
    await admin.disconnect();
  }
}

const lines = (prefix: string, n: number): Message[] => Array.from({ length: n }, (_, i) => ({ value: `${prefix} ${i}` }));

describe('records of aborted transactions', () => {
  it('a transaction begun first and aborted last: none of its records reach the processor', async () => {
    const topic = await topicOf('aborted-order');
    await interleaveAborted(
      testKafka(),
      topic,
      { committed: lines('before', 2), a: lines('aborted a', 3), b: lines('aborted b', 3), after: lines('after', 2) },
      'b-first',
    );
    expect(await consume(topic, uniqueName('g'), 4)).toEqual(['before 0', 'before 1', 'after 0', 'after 1']);
    // The tests' own reader too (tests count what is in a topic with it).
    expect((await readTopic(testKafka(), topic, 5, 3000)).map((m) => m.value)).toEqual(['before 0', 'before 1', 'after 0', 'after 1']);
  }, 60_000);

  it('a fetch that starts inside two aborted transactions: none of their records reach the processor', async () => {
    const topic = await topicOf('aborted-inside');
    // Offsets: A 0, B 1, A 2, B 3, A 4, B 5; markers 6, 7; after 8.. (the committed transaction then its marker).
    await interleaveAborted(testKafka(), topic, { committed: [], a: lines('aborted a', 3), b: lines('aborted b', 3), after: lines('after', 3) }, 'a-first');
    const group = uniqueName('g');
    await startAt(group, topic, 3); // B's record next, both transactions open before it
    expect(await consume(topic, group, 3)).toEqual(['after 0', 'after 1', 'after 2']);
  }, 60_000);

  it("the shipper's progress read: an aborted record never says an object was shipped further than it was", async () => {
    const topic = await topicOf('aborted-progress');
    const record = (offset: number) => ({
      key: 'logs/a.log',
      value: JSON.stringify({ key: 'logs/a.log', etag: 'e1', offset, lines: offset, done: false, updatedAt: 1 }),
    });
    await interleaveAborted(testKafka(), topic, { committed: [record(10)], a: [record(900), record(901)], b: [record(950)], after: [] }, 'b-first');
    const read = await readProgressTopic(weblogKafka(), topic, uniqueName('reader'));
    expect(read.get('logs/a.log')?.offset).toBe(10);
  }, 60_000);
});
