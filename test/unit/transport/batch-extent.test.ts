import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { batchExtentMetadata, cutToExtent, parseBatchExtent } from '../../../src/transport/kafka-consumer.js';

const msgs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ offset: String(from + i) }) as KafkaMessage);

describe('batch extents', () => {
  it('round-trip through the commit metadata; other metadata is no extent', () => {
    expect(parseBatchExtent(batchExtentMetadata(12345))).toBe(12345);
    for (const m of [null, undefined, '', 'weblog-batch:1:', 'weblog-batch:1:-3', 'weblog-batch:1:1e99', 'weblog-batch:2:7', 'other:7'])
      expect(parseBatchExtent(m)).toBeUndefined();
  });

  it('cut a batch that reaches past the recorded extent back to it', () => {
    const cut = cutToExtent(msgs(10, 30), 30, 19);
    expect(cut.lastOffset).toBe(19);
    expect(cut.messages.map((m) => Number(m.offset))).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
  });

  it('leave a batch alone without an extent, when the extent is behind it, or when it ends before the extent', () => {
    expect(cutToExtent(msgs(10, 30), 30, undefined).lastOffset).toBe(30);
    expect(cutToExtent(msgs(10, 30), 30, 5).messages).toHaveLength(21);
    expect(cutToExtent(msgs(10, 30), 30, 40).lastOffset).toBe(30);
    expect(cutToExtent([], 30, 20).lastOffset).toBe(30);
  });
});
