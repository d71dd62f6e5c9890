import { describe, expect, it } from 'vitest';
import { partitionsCaughtUp } from '../../../src/transport/kafka-transport.js';

const none = new Map<number, number>();

describe('partitionsCaughtUp', () => {
  it('an end read before the markers of the last shipped batch is not the end (weblog run ended with 0 of 10,000 lines stored)', () => {
    // Right after the shipper's commit on a fresh broker every read-committed end still read 0.
    const stale = [0, 1].map((partition) => ({ partition, end: 0 }));
    expect(partitionsCaughtUp(stale, none, new Map([[0, 4]]))).toBe(false);
    expect(partitionsCaughtUp(stale, none, new Map([[1, 0]]))).toBe(false);
    // Once the ends are past the shipped batches, the committed offsets decide.
    const ends = [
      { partition: 0, end: 9 },
      { partition: 1, end: 0 },
    ];
    expect(partitionsCaughtUp(ends, none, new Map([[0, 4]]))).toBe(false);
    expect(partitionsCaughtUp(ends, new Map([[0, 8]]), new Map([[0, 4]]))).toBe(false);
    expect(partitionsCaughtUp(ends, new Map([[0, 9]]), new Map([[0, 4]]))).toBe(true);
  });

  it('empty partitions nothing was shipped to count as consumed', () => {
    expect(partitionsCaughtUp([{ partition: 0, end: 0 }], none, none)).toBe(true);
  });
});
