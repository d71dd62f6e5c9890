/**
 * weblog's record-batch decoder (src/transport/kafkajs-decoder.ts) on batches
 * written by the real broker: transactions committed and aborted (control
 * markers, aborted-transaction lists), gzip and plain batches, shipper
 * headers. The unit test holds it equal to kafkajs' decoder on crafted bytes;
 * this one checks what a consumer of ours actually receives.
 */
import { CompressionTypes, Partitioners } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { installFastRecordDecoder } from '../../../src/transport/kafkajs-decoder.js';
import { createKafka } from '../../../src/transport/kafka.js';
import { KafkaLogConsumer } from '../../../src/transport/kafka-consumer.js';
import type { LogMessage } from '../../../src/transport/types.js';
import { createTopic, deleteTopics, testKafka } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { waitUntil } from '../../helpers/wait.js';

describe("weblog's kafkajs record decoder on the real broker", () => {
  const kafka = testKafka();
  const topic = uniqueName('decoder');
  afterAll(() => deleteTopics(kafka, [topic]));

  it('delivers exactly the committed messages, gzip or not, with their headers, in offset order', async () => {
    await createTopic(kafka, topic, 2);
    const producer = kafka.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const sources = ['logs/2026/11/27/access.log.gz', 'logs/ünï café.log'];
    const committed: { value: string; source: string; sourceOffset: number; rejectReason?: string }[] = [];
    const message = (i: number, prefix: string) => {
      const m = {
        value: `${prefix} ${i} "GET /x?q=${i} HTTP/1.1" ✓`,
        source: sources[i % 2] as string,
        sourceOffset: i * 1_000_003,
        ...(i % 97 === 0 ? { rejectReason: 'line_too_long' } : {}),
      };
      const headers: Record<string, string> = { 'weblog-source': m.source, 'weblog-offset': String(m.sourceOffset) };
      if (m.rejectReason) headers['weblog-reject'] = m.rejectReason;
      return { m, kafka: { key: String(i), value: m.value, headers } };
    };
    const send = async (from: number, to: number, prefix: string, compression: CompressionTypes, commit: boolean) => {
      const tx = await producer.transaction();
      const batch = Array.from({ length: to - from }, (_, k) => message(from + k, prefix));
      await tx.send({ topic, compression, messages: batch.map((b) => b.kafka) });
      if (commit) {
        await tx.commit();
        committed.push(...batch.map((b) => b.m));
      } else await tx.abort();
    };
    await send(0, 600, 'committed', CompressionTypes.GZIP, true);
    await send(600, 800, 'aborted', CompressionTypes.GZIP, false);
    await send(800, 1000, 'aborted', CompressionTypes.None, false);
    await send(1000, 1400, 'committed', CompressionTypes.None, true);
    await producer.disconnect();

    const consumer = new KafkaLogConsumer(createKafka({ brokers: inject('endpoints').kafkaBrokers }), {
      topic,
      groupId: uniqueName('g'),
      maxWaitTimeMs: 100,
      minBytes: 1,
    });
    const got: (LogMessage & { partition: number })[] = [];
    await consumer.start(async (b) => {
      for (const m of b.messages) got.push({ ...m, partition: b.partition });
    });
    try {
      await waitUntil('1,000 committed messages', async () => got.length >= committed.length);
    } finally {
      await consumer.close();
    }

    expect(installFastRecordDecoder()).toBe('already-installed');
    // the aborted ones sit between the two committed runs in every partition: they would have come by now
    expect(got.filter((m) => m.value.startsWith('aborted'))).toEqual([]);
    const key = (m: { value: string; source: string; sourceOffset: number; rejectReason?: string | undefined }) =>
      JSON.stringify([m.value, m.source, m.sourceOffset, m.rejectReason ?? null]);
    expect(got.map(key).sort()).toEqual(committed.map(key).sort());
    for (const p of [0, 1]) {
      const offsets = got.filter((m) => m.partition === p).map((m) => m.offset);
      expect(offsets.length).toBeGreaterThan(0);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    const now = Date.now();
    expect(got.every((m) => m.timestamp > now - 600_000 && m.timestamp <= now)).toBe(true);
  });
});
