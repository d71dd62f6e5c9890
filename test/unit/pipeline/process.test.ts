/**
 * The processor's rules against a small in-memory store (the real one is
 * tested on the servers): the skip rule on redelivery, narrowing to the bad
 * rows, the stop on systematic errors, and that no error it does not know
 * ever lets a batch count as stored.
 */
import { describe, expect, it } from 'vitest';
import { WeblogError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observe/log.js';
import { Registry } from '../../../src/observe/metrics.js';
import { Processor } from '../../../src/pipeline/process.js';
import type { AccessLogStore, RejectedLine, StoredOffsets } from '../../../src/sink/access-log.js';
import type { RowBuffer } from '../../../src/sink/row-buffer.js';
import { AccessLogTsvWriter } from '../../../src/sink/rows.js';
import type { BatchControl, LogBatch, LogMessage } from '../../../src/transport/types.js';
import { fixture, readLines } from '../../helpers/datasets.js';

const sample = readLines(fixture('logs', 'elastic_apache.log')).filter((l) => l.endsWith('"')); // parseable lines only

/** Rows and rejects by offset, with hooks that fail an INSERT the way a server would. */
class FakeStore implements AccessLogStore {
  readonly rows: number[] = [];
  readonly rejects: { offset: number; reason: string }[] = [];
  insertCalls = 0;
  /** Called with the offsets of each rows INSERT before it is stored; may throw; `landed` stores them anyway first. */
  onInsert: (offsets: number[]) => { landed?: boolean } | void = () => {};

  rowWriter(site: string | undefined): AccessLogTsvWriter {
    return new AccessLogTsvWriter({ site });
  }

  async storedOffsets(_t: string, _p: number, from: number): Promise<StoredOffsets> {
    const top = (list: number[]) => list.filter((o) => o >= from).reduce((m, o) => Math.max(m, o), -1);
    return { rows: top(this.rows), rejects: top(this.rejects.map((r) => r.offset)) };
  }

  async storedRejects(_t: string, _p: number, offsets: readonly number[]): Promise<Set<number>> {
    return new Set(this.rejects.map((r) => r.offset).filter((o) => offsets.includes(o)));
  }

  async insertRows(_t: string, _p: number, rows: RowBuffer, from: number, to: number): Promise<void> {
    this.insertCalls++;
    const offsets = rows.offsets.slice(from, to);
    this.onInsert(offsets);
    this.rows.push(...offsets);
  }

  async insertRejects(_t: string, _p: number, rejects: readonly RejectedLine[]): Promise<void> {
    for (const r of rejects) this.rejects.push({ offset: r.msg.offset, reason: r.reject.reason });
  }
}

function batch(from: number, to: number, lines: (i: number) => string = (i) => sample[i % sample.length] as string): LogBatch {
  const messages: LogMessage[] = [];
  for (let o = from; o < to; o++) messages.push({ value: lines(o), offset: o, source: 's', sourceOffset: o * 100, timestamp: Date.now() });
  return { topic: 't', partition: 0, messages, highWatermark: to, lastOffset: to - 1 };
}

const ctl = (heartbeat: () => Promise<void> = async () => {}): BatchControl => ({
  heartbeat,
  signal: new AbortController().signal,
  draining: new AbortController().signal,
});

async function processor(store: FakeStore, maxInsertRows = 100): Promise<Processor> {
  return Processor.withStore(store, { enrich: {}, deadLetterTopic: '', maxInsertRows, maxRetryDelayMs: 1 }, { log: silentLogger, registry: new Registry() });
}

const dups = (list: number[]) => list.length - new Set(list).size;

describe('Processor rules (fake store)', () => {
  it('a batch redelivered from offset 0 after rows up to k were stored adds no duplicate (no kill timing needed)', async () => {
    const store = new FakeStore();
    const p = await processor(store);
    await p.handleBatch(batch(0, 137), ctl()); // stored up to offset 136, as before a crash
    p.onAssignment(); // the crash: a new assignment, the whole batch comes again
    await p.handleBatch(batch(0, 400), ctl());
    expect(store.rows).toHaveLength(400);
    expect(dups(store.rows)).toBe(0);
    expect(p.metrics.skipped.total()).toBe(137);
  });

  it('an INSERT that landed although it reported a transient error is not written again', async () => {
    const store = new FakeStore();
    let failed = false;
    store.onInsert = (offsets) => {
      if (!failed && offsets.includes(250)) {
        failed = true;
        store.rows.push(...offsets); // landed...
        throw new WeblogError('UNAVAILABLE', 'socket hang up'); // ...but the answer was lost
      }
    };
    const p = await processor(store);
    await p.handleBatch(batch(0, 400), ctl());
    expect(store.rows).toHaveLength(400);
    expect(dups(store.rows)).toBe(0);
    expect(p.metrics.retries.total()).toBe(1);
  });

  it('narrows a refused INSERT down to the bad rows, which become insert_rejected; the rest is stored', async () => {
    const store = new FakeStore();
    const bad = new Set([3, 77, 78, 199]);
    store.onInsert = (offsets) => {
      if (offsets.some((o) => bad.has(o))) throw new WeblogError('INSERT_REJECTED', 'Cannot parse input');
    };
    const p = await processor(store);
    await p.handleBatch(batch(0, 200), ctl());
    expect(
      store.rejects
        .filter((r) => r.reason === 'insert_rejected')
        .map((r) => r.offset)
        .sort((a, b) => a - b),
    ).toEqual([...bad]);
    expect(store.rows).toHaveLength(196);
    expect(store.rows.some((o) => bad.has(o))).toBe(false);
  });

  it('stops on a systematic refusal (nearly every row) instead of rejecting the whole batch row by row', async () => {
    const store = new FakeStore();
    store.onInsert = () => {
      throw new WeblogError('INSERT_REJECTED', 'Unknown column');
    };
    const p = await processor(store);
    const err = await p.handleBatch(batch(0, 200), ctl()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeblogError);
    expect((err as WeblogError).retriable).toBe(false);
    expect((err as WeblogError).message).toMatch(/rejects nearly every row \(16 of 16 tried one by one\)/);
    expect(store.rejects.length).toBeLessThan(16);
  });

  it('stops on a systematic refusal also when it comes in small batches (counted across batches of a partition)', async () => {
    // Regression: the count was per batch, so batches of under 16 rows (a quiet Kafka partition) were
    // dead-lettered row by row forever instead of stopping.
    const store = new FakeStore();
    store.onInsert = () => {
      throw new WeblogError('INSERT_REJECTED', 'Unknown column');
    };
    const p = await processor(store);
    let stopped: unknown;
    for (let b = 0; b < 5 && stopped === undefined; b++) stopped = await p.handleBatch(batch(b * 10, b * 10 + 10), ctl()).catch((e: unknown) => e);
    expect((stopped as WeblogError | undefined)?.message).toMatch(/rejects nearly every row \(16 of 16 tried one by one\)/);
    expect(store.rejects.length).toBeLessThan(16);
  });

  it('a partition with a few bad rows among good ones never counts as systematic', async () => {
    const store = new FakeStore();
    store.onInsert = (offsets) => {
      if (offsets.some((o) => o % 10 === 3)) throw new WeblogError('INSERT_REJECTED', 'Cannot parse input');
    };
    const p = await processor(store);
    for (let b = 0; b < 10; b++) await p.handleBatch(batch(b * 10, b * 10 + 10), ctl());
    expect(store.rejects).toHaveLength(10);
    expect(store.rows).toHaveLength(90);
  });

  it('an error it does not know, from the INSERT or from the heartbeat inside its retry, never lets the batch resolve', async () => {
    const boom = new Error('not a weblog error');
    const a = new FakeStore();
    a.onInsert = () => {
      throw boom;
    };
    await expect((await processor(a)).handleBatch(batch(0, 50), ctl())).rejects.toBe(boom);

    const b = new FakeStore();
    b.onInsert = () => {
      throw new WeblogError('UNAVAILABLE', 'connect ECONNREFUSED');
    };
    const rebalance = new Error('The group is rebalancing');
    await expect(
      (await processor(b)).handleBatch(
        batch(0, 50),
        ctl(async () => Promise.reject(rebalance)),
      ),
    ).rejects.toBe(rebalance);
    expect(b.rows).toHaveLength(0);
  });

  it('skips rejects already stored when a batch comes again', async () => {
    const store = new FakeStore();
    const lines = (i: number) => (i % 10 === 0 ? 'not a log line' : (sample[i] as string));
    const p = await processor(store);
    await p.handleBatch(batch(0, 100, lines), ctl());
    p.onAssignment();
    await p.handleBatch(batch(0, 100, lines), ctl());
    expect(store.rejects.map((r) => r.offset)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(store.rows).toHaveLength(90);
  });
});
