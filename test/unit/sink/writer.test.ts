/**
 * The exactly-once rules of the durable write, at the writer, against an
 * in-memory store that fails INSERTs the way a server does: an INSERT whose
 * answer was lost is read back before its retry; a refused chunk is narrowed
 * down to its bad rows; nearly every row refused is systematic and stops;
 * every INSERT holds one table partition; a graceful stop ends retrying;
 * no error it does not know lets a batch count as stored.
 */
import { describe, expect, it } from 'vitest';
import { WeblogError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observe/log.js';
import { Registry } from '../../../src/observe/metrics.js';
import { positionKey, type RejectedLine } from '../../../src/sink/access-log.js';
import { RowBuffer } from '../../../src/sink/row-buffer.js';
import { AccessLogWriter, deadLetterJson, writerMetrics, type BatchLine, type WriteBatch, type WriteControl } from '../../../src/sink/writer.js';
import { FakeStore } from '../../helpers/fake-store.js';

const ctl = (heartbeat: () => Promise<void> = async () => {}): WriteControl => ({
  heartbeat,
  signal: new AbortController().signal,
  draining: new AbortController().signal,
});

function writer(store: FakeStore, opts: { maxInsertRows?: number; dlq?: { sent: string[] } } = {}) {
  const metrics = writerMetrics(new Registry());
  const dlq = opts.dlq;
  const w = new AccessLogWriter(
    store,
    { maxInsertRows: opts.maxInsertRows ?? 100, maxRetryDelayMs: 1, deadLetterTopic: dlq ? 'dead' : '' },
    silentLogger,
    metrics,
    dlq ? { send: async (_t, m) => void dlq.sent.push(...m.map((x) => x.value)) } : undefined,
  );
  return { w, metrics };
}

/** One-line messages at offsets [from, to); `month(o)` is the table partition of the row at o (default: all one). */
function lines(from: number, to: number): BatchLine[] {
  return Array.from({ length: to - from }, (_, i) => ({ offset: from + i, line: 0, source: 's', sourceOffset: (from + i) * 100, value: `line ${from + i}` }));
}

async function batchOf(
  w: AccessLogWriter,
  from: number,
  to: number,
  opts: { month?: (o: number) => number; reject?: (o: number) => boolean } = {},
): Promise<WriteBatch> {
  const all = lines(from, to);
  const stored = await w.storedFrom('t', 0, from, ctl());
  const rows = new RowBuffer(1024);
  const rejects: RejectedLine[] = [];
  for (const l of all) {
    if (opts.reject?.(l.offset)) rejects.push({ msg: l, reject: { line: l.value, reason: 'no_match', detail: 'no match' } });
    else {
      rows.beginRow(l.offset, l.line, opts.month?.(l.offset) ?? 0);
      rows.str(l.value);
      rows.endRow();
    }
  }
  return { topic: 't', partition: 0, rows, rejects, lines: all, stored };
}

const dups = (list: number[]) => list.length - new Set(list).size;

describe('AccessLogWriter (fake store)', () => {
  it('an INSERT that landed although it reported a transient error is read back and not written again', async () => {
    const store = new FakeStore();
    let failed = false;
    store.onInsert = (offsets, land) => {
      if (!failed && offsets.includes(250)) {
        failed = true;
        land(); // landed...
        throw new WeblogError('UNAVAILABLE', 'socket hang up'); // ...but the answer was lost
      }
    };
    const { w, metrics } = writer(store);
    await w.write(await batchOf(w, 0, 400), ctl());
    expect(store.rows).toHaveLength(400);
    expect(dups(store.rows)).toBe(0);
    expect(metrics.retries.total()).toBe(1);
    expect(metrics.inserted.total()).toBe(400);
  });

  it('an INSERT that failed before landing is retried whole', async () => {
    const store = new FakeStore();
    let failures = 0;
    store.onInsert = () => {
      if (failures++ < 2) throw new WeblogError('UNAVAILABLE', 'connect ECONNREFUSED');
    };
    const { w, metrics } = writer(store);
    await w.write(await batchOf(w, 0, 50), ctl());
    expect(store.rows).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(metrics.retries.total()).toBe(2);
  });

  it('a rejects INSERT that landed before its error is not written twice', async () => {
    const store = new FakeStore();
    let once = false;
    store.onInsertRejects = (land) => {
      if (!once) {
        once = true;
        land();
        throw new WeblogError('UNAVAILABLE', 'socket hang up');
      }
    };
    const { w, metrics } = writer(store);
    await w.write(await batchOf(w, 0, 40, { reject: (o) => o % 4 === 0 }), ctl());
    expect(store.rejects.map((r) => r.offset)).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
    expect(store.rows).toHaveLength(30);
    expect(metrics.rejected.total()).toBe(10);
  });

  it('narrows a refused INSERT down to the bad rows, which become insert_rejected rejects holding their line; the rest is stored', async () => {
    const store = new FakeStore();
    const bad = new Set([3, 77, 78, 199]);
    store.onInsert = (offsets) => {
      if (offsets.some((o) => bad.has(o))) throw new WeblogError('INSERT_REJECTED', 'Cannot parse input');
    };
    const dlq = { sent: [] as string[] };
    const { w } = writer(store, { dlq });
    await w.write(await batchOf(w, 0, 200), ctl());
    expect(
      store.rejects
        .filter((r) => r.reason === 'insert_rejected')
        .map((r) => r.offset)
        .sort((a, b) => a - b),
    ).toEqual([...bad]);
    expect(store.rows).toHaveLength(196);
    expect(store.rows.some((o) => bad.has(o))).toBe(false);
    const letters = dlq.sent.map((v) => JSON.parse(v) as { line: string; reason: string; offset: number; line_index: number; source_offset: number });
    expect(letters.map((l) => [l.offset, l.line, l.reason])).toEqual([...bad].map((o) => [o, `line ${o}`, 'insert_rejected']));
    expect(letters[0]?.source_offset).toBe(300);
  });

  it('stops on a systematic refusal (nearly every row) instead of rejecting the whole batch row by row', async () => {
    const store = new FakeStore();
    store.onInsert = () => {
      throw new WeblogError('INSERT_REJECTED', 'Unknown column');
    };
    const { w } = writer(store);
    const err = await w.write(await batchOf(w, 0, 200), ctl()).catch((e: unknown) => e);
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
    const { w } = writer(store);
    let stopped: unknown;
    for (let b = 0; b < 5 && stopped === undefined; b++) stopped = await w.write(await batchOf(w, b * 10, b * 10 + 10), ctl()).catch((e: unknown) => e);
    expect((stopped as WeblogError | undefined)?.message).toMatch(/rejects nearly every row \(16 of 16 tried one by one\)/);
    expect(store.rejects.length).toBeLessThan(16);
  });

  it('a partition with a few bad rows among good ones never counts as systematic', async () => {
    const store = new FakeStore();
    store.onInsert = (offsets) => {
      if (offsets.some((o) => o % 10 === 3)) throw new WeblogError('INSERT_REJECTED', 'Cannot parse input');
    };
    const { w } = writer(store);
    for (let b = 0; b < 10; b++) await w.write(await batchOf(w, b * 10, b * 10 + 10), ctl());
    expect(store.rejects).toHaveLength(10);
    expect(store.rows).toHaveLength(90);
  });

  it('cuts INSERTs at table partitions (months) and at --max-insert-rows, in position order', async () => {
    const store = new FakeStore();
    const { w } = writer(store, { maxInsertRows: 4 });
    // offsets 0-5 in month 1, 6-7 in month 2, 8-9 in month 1 again
    await w.write(await batchOf(w, 0, 10, { month: (o) => (o < 6 || o > 7 ? 1 : 2) }), ctl());
    expect(store.insertRanges).toEqual([
      ['0:0', '3:0'],
      ['4:0', '5:0'],
      ['6:0', '7:0'],
      ['8:0', '9:0'],
    ]);
  });

  it('a graceful stop ends retrying: the batch is left unstored, nothing counts as written', async () => {
    const store = new FakeStore();
    store.onInsert = () => {
      throw new WeblogError('UNAVAILABLE', 'connect ECONNREFUSED');
    };
    const { w, metrics } = writer(store);
    const draining = new AbortController();
    const c = { ...ctl(), draining: draining.signal };
    const b = await batchOf(w, 0, 20);
    setTimeout(() => draining.abort(new WeblogError('ABORTED', 'draining')), 30);
    await expect(w.write(b, c)).rejects.toThrow();
    expect(store.rows).toHaveLength(0);
    expect(metrics.inserted.total()).toBe(0);
    expect(w.health().ok).toBe(false);
  });

  it('/healthz stays 503 while one partition waits on a full disk, though the writes of another partition land', async () => {
    const store = new FakeStore();
    let full = true;
    store.onInsert = (offsets) => {
      if (full && offsets[0] === 100)
        throw new WeblogError('UNAVAILABLE', 'Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)');
    };
    const { w } = writer(store);
    const stuck = w.write(await batchOf(w, 100, 120), ctl()); // the fake store keeps one offset space: the landing partition's are lower
    await new Promise((r) => setTimeout(r, 20));
    expect(w.health().detail).toMatch(/disk_full/);
    await w.write({ ...(await batchOf(w, 0, 20)), partition: 1 }, ctl());
    expect(store.rows).toHaveLength(20);
    expect(w.health().ok).toBe(false);
    expect(w.health().detail).toMatch(/disk_full/);
    full = false;
    await stuck;
    expect(store.rows).toHaveLength(40);
    expect(w.health()).toEqual({ ok: true, detail: 'storing' });
  });

  it('an error it does not know, from the INSERT or from the heartbeat inside its retry, never lets the batch resolve', async () => {
    const boom = new Error('not a weblog error');
    const a = new FakeStore();
    a.onInsert = () => {
      throw boom;
    };
    const wa = writer(a).w;
    await expect(wa.write(await batchOf(wa, 0, 50), ctl())).rejects.toBe(boom);

    const b = new FakeStore();
    b.onInsert = () => {
      throw new WeblogError('UNAVAILABLE', 'connect ECONNREFUSED');
    };
    const rebalance = new Error('The group is rebalancing');
    const wb = writer(b).w;
    await expect(
      wb.write(
        await batchOf(wb, 0, 50),
        ctl(async () => Promise.reject(rebalance)),
      ),
    ).rejects.toBe(rebalance);
    expect(b.rows).toHaveLength(0);
  });

  it('reads a partition back once per assignment, and again after forget()', async () => {
    const store = new FakeStore();
    const { w } = writer(store);
    await w.write(await batchOf(w, 0, 10), ctl());
    const s1 = await w.storedFrom('t', 0, 10, ctl());
    expect(positionKey(s1.rows.offset, s1.rows.line)).toBe('9:0'); // kept up to date by the write, not read again
    w.forget();
    const s2 = await w.storedFrom('t', 0, 10, ctl()); // read again: from offset 10 on, nothing
    expect(s2.rows.offset).toBe(-1);
  });

  it('dead letters carry the line, its reason and where it came from', () => {
    const v = JSON.parse(
      deadLetterJson('raw', 3, { msg: { offset: 7, line: 2, source: 'a.log', sourceOffset: 99 }, reject: { line: 'x', reason: 'no_match', detail: 'd' } }),
    );
    expect(v).toEqual({ line: 'x', reason: 'no_match', detail: 'd', topic: 'raw', partition: 3, offset: 7, line_index: 2, source: 'a.log', source_offset: 99 });
  });
});
