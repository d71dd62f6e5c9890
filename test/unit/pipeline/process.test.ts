/**
 * The processor against a small in-memory store (the real one is tested on
 * the servers): lines already stored are skipped before enrichment on a
 * redelivery, bundles cut between INSERTs, rejects found while narrowing.
 * The write rules themselves are tested at the writer (test/unit/sink/writer.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { WeblogError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observe/log.js';
import { Registry } from '../../../src/observe/metrics.js';
import { Processor } from '../../../src/pipeline/process.js';
import { positionKey } from '../../../src/sink/access-log.js';
import type { BatchControl, LogBatch, LogMessage } from '../../../src/transport/types.js';
import { pushMessageLines } from '../../../src/transport/message-lines.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { FakeStore } from '../../helpers/fake-store.js';

const sample = readLines(fixture('logs', 'elastic_apache.log')).filter((l) => l.endsWith('"')); // parseable lines only

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
  it('freshness is the wait of the batch`s oldest line (a gathered batch holds lines of several fetches)', async () => {
    const store = new FakeStore();
    const p = await processor(store);
    const b = batch(0, 10);
    b.messages.forEach((m, i) => (m.timestamp = Date.now() - (i === 0 ? 4000 : 10))); // the first line came 4 s ago
    await p.handleBatch(b, ctl());
    const sum = Number(/weblog_freshness_seconds_sum (\S+)/.exec(p.metrics.freshness.render().join('\n'))?.[1]);
    expect(sum).toBeGreaterThanOrEqual(4);
    expect(sum).toBeLessThan(10);
  });

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
