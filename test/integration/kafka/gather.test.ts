/**
 * A partition's fetches gathered into one batch (one INSERT) until it is
 * full or its oldest line waited the flush interval, on the real broker:
 * few batches for a slow stream, nothing committed of a batch not handed on,
 * a batch that failed from its timer fetched again whole, and a new owner's
 * batch ending exactly where the previous owner recorded its extent.
 */
import { Partitioners, type Kafka } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { WeblogError } from '../../../src/errors.js';
import { createKafka } from '../../../src/transport/kafka.js';
import { KafkaLogConsumer, type ConsumerOptions } from '../../../src/transport/kafka-consumer.js';
import type { LogBatch } from '../../../src/transport/types.js';
import { createTopic, deleteTopics, produceLines, testKafka } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { waitUntil } from '../../helpers/wait.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function topicOf(partitions = 1): Promise<string> {
  const topic = uniqueName('gather');
  await createTopic(testKafka(), topic, partitions);
  cleanups.push(() => deleteTopics(testKafka(), [topic]));
  return topic;
}

function consumerOf(topic: string, group: string, opts: Partial<ConsumerOptions>): KafkaLogConsumer {
  // minBytes 1: every fetch returns at once, so only the gathering makes batches bigger than a fetch.
  const c = new KafkaLogConsumer(createKafka({ brokers: inject('endpoints').kafkaBrokers }), { topic, groupId: group, minBytes: 1, ...opts });
  cleanups.push(() => c.destroy());
  return c;
}

async function committed(kafka: Kafka, group: string, topic: string): Promise<{ offset: number; metadata: string | null }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const p = t?.partitions[0];
    return { offset: Number(p?.offset ?? -1), metadata: p?.metadata ?? null };
  } finally {
    await admin.disconnect();
  }
}

/** Produces `n` one-line messages, one every `everyMs`, to partition 0. */
async function trickle(topic: string, n: number, everyMs: number): Promise<void> {
  const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < n; i++) {
    await producer.send({ topic, messages: [{ value: `line ${i}`, partition: 0 }] });
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await producer.disconnect();
}

/** Produces lines 0..n-1 in sends of `perSend` (one record batch each: a fetch of a few KiB returns one or two). */
async function produceInSends(topic: string, n: number, perSend: number): Promise<void> {
  const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < n; i += perSend)
    await producer.send({ topic, messages: range(Math.min(perSend, n - i)).map((j) => ({ value: `line ${i + j}`, partition: 0 })) });
  await producer.disconnect();
}

const offsetsOf = (batches: LogBatch[]) => batches.flatMap((b) => b.messages.map((m) => m.offset));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('a partition gathers its fetches into one batch', () => {
  it('a slow stream: few batches, each line once and in order, none waiting much past the flush interval', async () => {
    const topic = await topicOf();
    const c = consumerOf(topic, topic, { maxWaitTimeMs: 1500 });
    const batches: LogBatch[] = [];
    const handedAt: number[] = [];
    await c.start(async (b) => {
      batches.push(b);
      handedAt.push(Date.now());
    });
    const t0 = Date.now();
    await trickle(topic, 30, 100); // 30 fetches' worth over 3 s
    await waitUntil('all lines handed on', async () => offsetsOf(batches).length === 30 || undefined, 15_000, 50);
    expect(offsetsOf(batches)).toEqual(range(30));
    expect(batches.length).toBeLessThanOrEqual(4); // one per fetch was 30
    expect((handedAt[0] as number) - t0).toBeGreaterThanOrEqual(1400); // its first line waited the flush interval
    expect((handedAt[0] as number) - t0).toBeLessThan(4000);
    await waitUntil('committed past the last line', async () => (await committed(testKafka(), topic, topic)).offset === 30 || undefined, 10_000, 100);
  }, 60_000);

  it('a backlog: batches handed on as soon as they hold --max-batch-lines, before the flush interval', async () => {
    const topic = await topicOf();
    await produceInSends(topic, 400, 10);
    // Fetches of about 2 KiB (one or two sends of 10 lines) each; a batch hands on at 100 lines, long before 60 s.
    const c = consumerOf(topic, topic, { maxWaitTimeMs: 60_000, maxBatchLines: 100, maxBytesPerPartition: 2048 });
    const batches: LogBatch[] = [];
    await c.start(async (b) => void batches.push(b));
    await waitUntil('the backlog handed on', async () => offsetsOf(batches).length >= 400 || undefined, 20_000, 50);
    expect(offsetsOf(batches)).toEqual(range(400));
    for (const b of batches) expect(b.messages.length).toBeGreaterThanOrEqual(100);
    expect(batches.length).toBeLessThanOrEqual(4);
  }, 60_000);

  it('a gathered batch not handed on yet is not committed: stopped, the next consumer gets every line of it', async () => {
    const topic = await topicOf();
    const a = consumerOf(topic, topic, { maxWaitTimeMs: 6000 });
    let fetched = 0;
    await a.start(async (b) => void (fetched += b.messages.length));
    await produceLines(testKafka(), topic, ['a', 'b', 'c', 'd', 'e']);
    await new Promise((r) => setTimeout(r, 2000)); // fetched and gathered, 4 s before it is due
    await a.close();
    expect(fetched).toBe(0);
    expect((await committed(testKafka(), topic, topic)).offset).toBe(-1);
    const b = consumerOf(topic, topic, { maxWaitTimeMs: 100 });
    const batches: LogBatch[] = [];
    await b.start(async (x) => void batches.push(x));
    await waitUntil('handed on by the next consumer', async () => offsetsOf(batches).length === 5 || undefined, 20_000, 50);
    expect(batches.flatMap((x) => x.messages.map((m) => m.value))).toEqual(['a', 'b', 'c', 'd', 'e']);
  }, 60_000);

  it('a batch that fails from its timer (retriable) is fetched again whole and in order; nothing after it is committed first', async () => {
    const topic = await topicOf();
    const c = consumerOf(topic, topic, { maxWaitTimeMs: 500 });
    let fatal: unknown;
    c.onFatal((e) => (fatal = e));
    const batches: LogBatch[] = [];
    let failures = 0;
    await c.start(async (b) => {
      if (failures === 0 && b.messages.length) {
        failures++;
        await new Promise((r) => setTimeout(r, 1500)); // meanwhile kafkajs fetches on
        throw new WeblogError('UNAVAILABLE', 'test: not stored');
      }
      batches.push(b);
    });
    await trickle(topic, 20, 100);
    await waitUntil('every line handed on', async () => (offsetsOf(batches).at(-1) === 19 ? true : undefined), 20_000, 50);
    expect(fatal).toBeUndefined();
    expect(failures).toBe(1);
    expect(offsetsOf(batches)).toEqual(range(20)); // the failed batch again from its first line; no gap, nothing twice
    await waitUntil('committed to the end', async () => (await committed(testKafka(), topic, topic)).offset === 20 || undefined, 10_000, 100);
  }, 60_000);

  it('a new owner ends its first batch exactly at the extent the previous owner recorded, bigger than its own batches', async () => {
    const topic = await topicOf();
    await produceInSends(topic, 300, 10);
    const a = consumerOf(topic, topic, { maxWaitTimeMs: 200, maxBatchLines: 250 });
    let first: LogBatch | undefined;
    await a.start(async (b, ctl) => {
      first ??= b;
      // Stores until destroyed: the replica dies mid-INSERT.
      await new Promise((r) => ctl.signal.addEventListener('abort', r));
      throw new WeblogError('ABORTED', 'test: destroyed');
    });
    await waitUntil('the first owner took a batch', async () => first ?? undefined, 20_000, 50);
    const extent = (first as LogBatch).lastOffset;
    expect(extent).toBeGreaterThanOrEqual(249);
    expect((await committed(testKafka(), topic, topic)).metadata).toBe(`weblog-batch:1:${extent}`);
    await a.destroy();
    // Fetches of about 2 KiB, batches of 10 lines: without the extent its first batch would end near offset 10.
    const b = consumerOf(topic, topic, { maxWaitTimeMs: 200, maxBatchLines: 10, maxBytesPerPartition: 2048 });
    const batches: LogBatch[] = [];
    await b.start(async (x) => void batches.push(x));
    await waitUntil('the rest handed on', async () => offsetsOf(batches).length === 300 || undefined, 30_000, 50);
    expect(batches[0]?.messages[0]?.offset).toBe(0);
    expect(batches[0]?.lastOffset).toBe(extent);
    expect(offsetsOf(batches)).toEqual(range(300));
    expect((batches[1]?.messages.length ?? 0) < 100).toBe(true); // then its own, smaller batches
  }, 60_000);
});

describe('a batch handed on from its timer while the group rebalances', () => {
  it('cannot start another INSERT once its consumer rejoined: heartbeat() throws, nothing of it is committed by the old generation', async () => {
    const topic = await topicOf(2);
    await produceInSends(topic, 20, 10);
    const a = consumerOf(topic, topic, { maxWaitTimeMs: 300, sessionTimeoutMs: 10_000 });
    let joins = 0;
    a.onAssignment(() => joins++);
    let fatal: unknown;
    a.onFatal((e) => (fatal = e));
    let heartbeatAfterRejoin: unknown = 'not called';
    let first = true;
    await a.start(async (_b, ctl) => {
      if (!first) return;
      first = false;
      // Stored slowly (a long INSERT): meanwhile a second member joins and the group rebalances around us.
      const b = consumerOf(topic, topic, { maxWaitTimeMs: 300, sessionTimeoutMs: 10_000 });
      await b.start(async () => undefined);
      await waitUntil('rejoined', async () => joins >= 2 || undefined, 30_000, 50);
      heartbeatAfterRejoin = await ctl.heartbeat().then(
        () => 'resolved',
        (e: unknown) => e,
      );
      throw heartbeatAfterRejoin;
    });
    await waitUntil('the handler asked', async () => heartbeatAfterRejoin !== 'not called' || undefined, 40_000, 50);
    expect(heartbeatAfterRejoin).toBeInstanceOf(Error);
    expect(String((heartbeatAfterRejoin as Error).message)).toMatch(/rebalanced while .* was being stored/);
    expect(fatal).toBeUndefined();
  }, 60_000);
});
