import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { markAbortedRecords, type FetchedPartition, type FetchedRecord } from '../../../src/transport/kafkajs-aborted.js';
import { below, rng } from '../../helpers/random.js';

const require = createRequire(import.meta.url);
/** kafkajs' own Batch: what its consumers hand on of a fetched partition. */
const Batch = require('kafkajs/src/consumer/batch') as new (
  topic: string,
  fetchedOffset: string,
  partition: FetchedPartition & { partition: number; highWatermark: string },
) => { messages: (FetchedRecord & { value: Buffer })[] };

type Rec = FetchedRecord & { value: Buffer };
const marker = (type: 0 | 1) => Buffer.from([0, 0, 0, type]);

/**
 * A partition's log as the broker keeps it: producers' transactions
 * interleaved (seeded), each ended by its own marker; some records written
 * without a transaction. Every transaction is ended (a read-committed fetch
 * stops before an open one). `committed` holds the offsets a reader must see.
 */
function randomLog(seed: number) {
  const r = rng(seed);
  const records: Rec[] = [];
  const committed = new Set<number>();
  /** Aborted transactions, in the order the broker lists them: by marker. */
  const aborted: { producerId: string; first: number; marker: number }[] = [];
  const open = new Map<string, { first: number; offsets: number[]; ctx: Rec['batchContext'] }>();
  const producers = ['3', '7', '12', '40'];
  for (let step = 0; step < 60 || open.size > 0; step++) {
    const producer = producers[below(r, producers.length)] as string;
    const tx = open.get(producer);
    const offset = records.length;
    const ending = tx && (step >= 60 || r() < 0.3);
    if (ending) {
      const abort = r() < 0.5;
      records.push({
        offset: String(offset),
        key: marker(abort ? 0 : 1),
        value: Buffer.alloc(0),
        isControlRecord: true,
        batchContext: { producerId: producer, inTransaction: true },
      });
      if (abort) aborted.push({ producerId: producer, first: tx.first, marker: offset });
      else for (const o of tx.offsets) committed.add(o);
      open.delete(producer);
    } else if (step < 60 && r() < 0.15) {
      records.push({
        offset: String(offset),
        key: null,
        value: Buffer.from(`plain ${offset}`),
        isControlRecord: false,
        batchContext: { producerId: '-1', inTransaction: false },
      });
      committed.add(offset);
    } else if (step < 60) {
      // A record batch's records share one context object, as the decoder hands them.
      const t = tx ?? { first: offset, offsets: [], ctx: { producerId: producer, inTransaction: true } };
      open.set(producer, t);
      t.offsets.push(offset);
      records.push({ offset: String(offset), key: null, value: Buffer.from(`${producer} ${offset}`), isControlRecord: false, batchContext: t.ctx });
    }
  }
  return { records, committed, aborted };
}

/** What a fetch from `from` returns: records from a little before it (a batch's start) to `to`, aborted transactions ending at or after `from`. */
function fetchOf(log: ReturnType<typeof randomLog>, from: number, back: number, to: number): FetchedPartition & { partition: number; highWatermark: string } {
  return {
    partition: 0,
    highWatermark: String(log.records.length),
    abortedTransactions: log.aborted.filter((t) => t.marker >= from).map((t) => ({ producerId: t.producerId, firstOffset: String(t.first) })),
    // Copies: marking moves a record's context.
    messages: log.records.slice(Math.max(0, from - back), to).map((x) => ({ ...x })),
  };
}

const handedOn = (p: ReturnType<typeof fetchOf>, from: number) => new Batch('t', String(from), p).messages.map((m) => Number(m.offset));

describe('records of aborted transactions (kafkajs-aborted.ts)', () => {
  it('seeded interleavings, fetched from anywhere: kafkajs hands on exactly the committed records once they are marked', () => {
    let leakedByKafkajsAlone = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const log = randomLog(seed);
      const r = rng(seed * 7919);
      for (let k = 0; k < 5; k++) {
        const from = below(r, log.records.length);
        const back = below(r, 4);
        const to = from + 1 + below(r, log.records.length - from);
        const want = [...log.committed].filter((o) => o >= from && o < to).sort((a, b) => a - b);
        const unmarked = fetchOf(log, from, back, to);
        if (handedOn(unmarked, from).join() !== want.join()) leakedByKafkajsAlone++;
        const marked = fetchOf(log, from, back, to);
        markAbortedRecords(marked);
        expect(handedOn(marked, from), `seed ${seed}, fetch ${from}..${to}`).toEqual(want);
      }
    }
    // Why this module exists: kafkajs alone gets some of these wrong.
    expect(leakedByKafkajsAlone).toBeGreaterThan(0);
  });

  it('the cases seen on the broker: a transaction begun first and aborted last; a fetch inside two aborted transactions', () => {
    const rec = (offset: number, producerId: string, control?: 0 | 1): Rec => ({
      offset: String(offset),
      key: control === undefined ? null : marker(control),
      value: Buffer.from(`r${offset}`),
      isControlRecord: control !== undefined,
      batchContext: { producerId, inTransaction: true },
    });
    /** A 0, B 1, A 2, B 3; both aborted (4, 5; `first` first); C committed 6, 7 (8). Fetched from `from`. */
    const fetch = (first: 'A' | 'B', from: number): FetchedPartition & { partition: number; highWatermark: string } => {
      const second: 'A' | 'B' = first === 'A' ? 'B' : 'A';
      const log = [rec(0, 'A'), rec(1, 'B'), rec(2, 'A'), rec(3, 'B'), rec(4, first, 0), rec(5, second, 0), rec(6, 'C'), rec(7, 'C'), rec(8, 'C', 1)];
      const starts = { A: '0', B: '1' };
      return {
        partition: 0,
        highWatermark: '9',
        // As the broker lists them: in the order they were aborted.
        abortedTransactions: [first, second].map((producerId) => ({ producerId, firstOffset: starts[producerId] })),
        messages: log.slice(from).map((x) => ({ ...x })),
      };
    };
    expect(handedOn(fetch('B', 0), 0)).toEqual([0, 6, 7]); // kafkajs alone: A's first record
    expect(handedOn(fetch('A', 3), 3)).toEqual([3, 6, 7]); // kafkajs alone: B's record at the fetch's start
    for (const [first, from, marked] of [
      ['B', 0, 4],
      ['A', 3, 1],
    ] as const) {
      const p = fetch(first, from);
      expect(markAbortedRecords(p)).toBe(marked);
      expect(handedOn(p, from)).toEqual([6, 7]);
    }
  });

  it('nothing aborted: nothing marked, the list left empty', () => {
    const p: FetchedPartition = {
      abortedTransactions: [],
      messages: [{ offset: '0', key: null, isControlRecord: false, batchContext: { producerId: '1', inTransaction: true } }],
    };
    expect(markAbortedRecords(p)).toBe(0);
    expect(p.messages[0]?.batchContext.producerId).toBe('1');
  });
});
