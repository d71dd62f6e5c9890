/**
 * A ship sink that takes over a transactional id must fence the former
 * holder before it reads the progress: a shipper still alive (a stalled one
 * of a static replica, or one whose slot the group moved) must not commit a
 * batch after the new one read where to resume, or that batch is shipped
 * twice. kafkajs initialises the transactional id only at the first
 * transaction(), not at connect(); the sink's connect did not fence at all
 * (seen: a group test with a message twice in the topic).
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../../src/transport/kafka.js';
import { KafkaShipSink } from '../../../src/transport/kafka-producers.js';
import type { ShipProgress } from '../../../src/transport/types.js';
import { createTopic, deleteTopics, testKafka } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const progress = (offset: number): ShipProgress => ({ key: 'logs/a.log', etag: 'e1', offset, lines: offset / 10, done: false, updatedAt: Date.now() });

describe('taking over a transactional id', () => {
  it('fences the former holder before the progress is read: its open transaction cannot commit afterwards', async () => {
    const topic = uniqueName('fence');
    const progressTopic = `${topic}.progress`;
    const kafka = createKafka({ brokers: inject('endpoints').kafkaBrokers });
    await createTopic(testKafka(), topic, 1);
    await createTopic(testKafka(), progressTopic, 1);
    cleanups.push(() => deleteTopics(testKafka(), [topic, progressTopic]));
    const id = uniqueName('ship-id');
    const old = new KafkaShipSink(kafka, { progressTopic, transactionalId: id });
    cleanups.push(() => old.close());
    await old.ship(topic, [{ value: Buffer.from('line 1\n') }], progress(10), 0);
    // The former holder, still alive, in the middle of its next batch.
    const zombie = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await zombie.connect();
    cleanups.push(() => zombie.disconnect());
    const tx = await zombie.transaction();
    await tx.send({ topic, messages: [{ value: 'line 2\n' }] });
    await tx.send({ topic: progressTopic, messages: [{ key: 'logs/a.log', value: JSON.stringify(progress(20)) }] });
    const taker = new KafkaShipSink(kafka, { progressTopic, transactionalId: id });
    cleanups.push(() => taker.close());
    const read = await taker.loadProgress();
    expect(read.get('logs/a.log')?.offset).toBe(10);
    // Too late: the batch the taker will ship again must not also land from the zombie.
    await expect(tx.commit()).rejects.toThrow();
    const again = new KafkaShipSink(kafka, { progressTopic, transactionalId: uniqueName('reader') });
    cleanups.push(() => again.close());
    expect((await again.loadProgress()).get('logs/a.log')?.offset).toBe(10);
  }, 60_000);
});
