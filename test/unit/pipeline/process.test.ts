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
import {
  laterOf,
  nothingStored,
  positionKey,
  type AccessLogStore,
  type Position,
  type RejectedLine,
  type StoredOffsets,
} from '../../../src/sink/access-log.js';
import type { RowBuffer } from '../../../src/sink/row-buffer.js';
import { AccessLogTsvWriter } from '../../../src/sink/rows.js';
import type { BatchControl, LogBatch, LogMessage } from '../../../src/transport/types.js';
import { pushMessageLines } from '../../../src/transport/message-lines.js';
import { fixture, readLines } from '../../helpers/datasets.js';

const sample = readLines(fixture('logs', 'elastic_apache.log')).filter((l) => l.endsWith('"')); // parseable lines only

/** Rows and rejects by offset, with hooks that fail an INSERT the way a server would. */
class FakeStore implements AccessLogStore {
  /** Offsets of the stored rows, and their (offset, line) keys. */
  readonly rows: number[] = [];
  readonly rowKeys: string[] = [];
  private readonly rowPositions: Position[] = [];
  readonly rejects: { offset: number; line: number; reason: string }[] = [];
  insertCalls = 0;
  /** Called with the offsets of each rows INSERT before it is stored; may throw; `land()` stores them first (an INSERT that landed though its answer was lost). */
  onInsert: (offsets: number[], land: () => void) => void = () => {};

  rowWriter(site: string | undefined): AccessLogTsvWriter {
    return new AccessLogTsvWriter({ site });
  }

  async storedOffsets(_t: string, _p: number, from: number): Promise<StoredOffsets> {
    const top = (list: Position[]) => list.filter((p) => p.offset >= from).reduce(laterOf, nothingStored());
    return { rows: top(this.rowPositions), rejects: top(this.rejects) };
  }

  async storedRejects(_t: string, _p: number, lines: readonly Position[]): Promise<Set<string>> {
    const want = new Set(lines.map((p) => positionKey(p.offset, p.line)));
    return new Set(this.rejects.map((r) => positionKey(r.offset, r.line)).filter((k) => want.has(k)));
  }

  async insertRows(_t: string, _p: number, rows: RowBuffer, from: number, to: number): Promise<void> {
    this.insertCalls++;
    let landed = false;
    const land = () => {
      landed = true;
      this.rows.push(...rows.offsets.slice(from, to));
      for (let i = from; i < to; i++) {
        const p = { offset: rows.offsets[i] as number, line: rows.lines[i] as number };
        this.rowPositions.push(p);
        this.rowKeys.push(positionKey(p.offset, p.line));
      }
    };
    this.onInsert(rows.offsets.slice(from, to), land);
    if (!landed) land();
  }

  async insertRejects(_t: string, _p: number, rejects: readonly RejectedLine[]): Promise<void> {
    for (const r of rejects) this.rejects.push({ offset: r.msg.offset, line: r.msg.line, reason: r.reject.reason });
  }
}

function batch(from: number, to: number, lines: (i: number) => string = (i) => sample[i % sample.length] as string): LogBatch {
  const messages: LogMessage[] = [];
  for (let o = from; o < to; o++) messages.push({ value: lines(o), offset: o, line: 0, source: 's', sourceOffset: o * 100, timestamp: Date.now() });
  return { topic: 't', partition: 0, messages, highWatermark: to, lastOffset: to - 1 };
}

/** Messages [from, to) of `per` lines each, as the shipper bundles them (line i of the sample is line k of message o, i = o * per + k). */
function bundled(from: number, to: number, per: number, lines: (i: number) => string = (i) => sample[i % sample.length] as string): LogBatch {
  const messages: LogMessage[] = [];
  for (let o = from; o < to; o++) {
    const text = Array.from({ length: per }, (_, k) => `${lines(o * per + k)}\n`).join('');
    pushMessageLines(Buffer.from(text), { offset: o, source: 's', sourceOffset: o * 10_000, timestamp: Date.now() }, messages);
  }
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

  it('bundles: a crash between two INSERTs that cut a message in two, then the batch again, stores each line once', async () => {
    const store = new FakeStore();
    let inserts = 0;
    store.onInsert = (_offsets, land) => {
      if (++inserts === 3) {
        land(); // the third INSERT (lines 200..299: messages 6 line 2 .. 9 line 11) lands, then the process dies
        throw new WeblogError('ABORTED', 'kill -9');
      }
    };
    const p = await processor(store, 100);
    await expect(p.handleBatch(bundled(0, 20, 33), ctl())).rejects.toThrow('kill -9');
    expect(store.rowKeys.at(-1)).toBe('9:2'); // message 9 is half stored
    const fresh = await processor(store, 100); // a new replica, or the restarted one
    await fresh.handleBatch(bundled(0, 20, 33), ctl());
    expect(store.rowKeys).toHaveLength(20 * 33);
    expect(new Set(store.rowKeys).size).toBe(20 * 33);
    expect(fresh.metrics.skipped.total()).toBe(300);
  });

  it('bundles: narrowing finds the bad lines inside messages, and their rejects name the line', async () => {
    const store = new FakeStore();
    const badKeys = new Set(['1:4', '2:0', '2:9', '5:7']);
    store.onInsert = () => undefined;
    const p = await processor(store);
    const b = bundled(0, 6, 10);
    const origInsert = store.insertRows.bind(store);
    store.insertRows = async (t, part, rows, from, to) => {
      for (let i = from; i < to; i++)
        if (badKeys.has(positionKey(rows.offsets[i] as number, rows.lines[i] as number))) throw new WeblogError('INSERT_REJECTED', 'Cannot parse input');
      return origInsert(t, part, rows, from, to);
    };
    await p.handleBatch(b, ctl());
    expect(store.rejects.map((r) => positionKey(r.offset, r.line)).sort()).toEqual([...badKeys].sort());
    expect(store.rowKeys).toHaveLength(60 - 4);
    p.onAssignment();
    await p.handleBatch(b, ctl()); // redelivered: nothing new, nothing twice
    expect(store.rowKeys).toHaveLength(60 - 4);
    expect(store.rejects).toHaveLength(4);
  });

  it('an INSERT that landed although it reported a transient error is not written again', async () => {
    const store = new FakeStore();
    let failed = false;
    store.onInsert = (offsets, land) => {
      if (!failed && offsets.includes(250)) {
        failed = true;
        land(); // landed...
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
