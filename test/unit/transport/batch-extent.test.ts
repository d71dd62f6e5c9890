import { describe, expect, it } from 'vitest';
import { batchExtentMetadata, parseBatchExtent, PartitionGather, type GatherLimits } from '../../../src/transport/gather.js';
import type { LogMessage } from '../../../src/transport/types.js';

/** Two lines per message, messages `from`..`to`. */
const lines = (from: number, to: number): LogMessage[] =>
  Array.from({ length: to - from + 1 }, (_, i) =>
    [0, 1].map((line) => ({ value: `line ${from + i}.${line}`, offset: from + i, line, source: '', sourceOffset: -1, timestamp: 0 })),
  ).flat();

const limits: GatherLimits = { maxLines: 100, maxChars: 10_000, maxAgeMs: 1000 };

describe('batch extents', () => {
  it('round-trip through the commit metadata; other metadata is no extent', () => {
    expect(parseBatchExtent(batchExtentMetadata(12345))).toBe(12345);
    for (const m of [null, undefined, '', 'weblog-batch:1:', 'weblog-batch:1:-3', 'weblog-batch:1:1e99', 'weblog-batch:2:7', 'other:7'])
      expect(parseBatchExtent(m)).toBeUndefined();
  });
});

describe('a partition gathering fetches into one batch', () => {
  it('is handed on when full, by lines or by characters, or when its oldest line waited the flush interval', () => {
    const g = new PartitionGather('t', 0, 10, 5000, undefined);
    expect(g.add(lines(10, 39), 39, 100)).toBeUndefined();
    expect(g.lines).toBe(60);
    expect(g.ready(limits, 5999)).toBe(false);
    expect(g.ready(limits, 6000)).toBe(true); // 1 s after its first lines
    expect(g.dueAt(limits)).toBe(6000);
    g.add(lines(40, 59), 61, 120); // the last fetch ended with two markers
    expect(g.lines).toBe(100);
    expect(g.lastOffset).toBe(61);
    expect(g.highWatermark).toBe(120);
    expect(g.ready(limits, 5001)).toBe(true);
    const long = new PartitionGather('t', 0, 0, 0, undefined);
    long.add([{ ...(lines(0, 0)[0] as LogMessage), value: 'x'.repeat(10_000) }], 0, 1);
    expect(long.ready(limits, 0)).toBe(true);
  });

  it('ends exactly at a previous owner`s extent, whatever the limits say, and hands the rest on to the next batch', () => {
    const g = new PartitionGather('t', 3, 10, 0, 24);
    expect(g.add(lines(10, 19), 19, 50)).toBeUndefined();
    expect(g.ready(limits, 60_000)).toBe(false); // old, but its extent is not reached: no timer either
    expect(g.dueAt(limits)).toBeUndefined();
    const rest = g.add(lines(20, 200), 200, 300);
    expect(g.lastOffset).toBe(24);
    expect(g.messages.map((m) => m.offset)).toEqual(lines(10, 24).map((m) => m.offset));
    expect(g.ready(limits, 0)).toBe(true);
    expect(rest?.firstOffset).toBe(25);
    expect(rest?.lastOffset).toBe(200);
    expect(rest?.lines.map((m) => m.offset)).toEqual(lines(25, 200).map((m) => m.offset));
  });

  it('ends at an extent that falls on a marker after its last message', () => {
    const g = new PartitionGather('t', 0, 10, 0, 15);
    const rest = g.add(lines(10, 14), 18, 19); // offset 15 is a transaction marker, 16-18 not in this fetch
    expect(g.lastOffset).toBe(15);
    expect(g.lines).toBe(10);
    expect(rest).toEqual({ lines: [], firstOffset: 16, lastOffset: 18 });
  });
});
