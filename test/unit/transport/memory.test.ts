/**
 * The in-process queue's rules (what `weblog run` relies on without Kafka):
 * offsets in order and continued across runs, a batch committed only after
 * its handler resolved, progress saved once its lines are committed, the
 * state moving only past whole ship calls, unfinished ship calls replayed at
 * their positions, and a handler that fails committing nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WeblogError } from '../../../src/errors.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import type { LogBatch, OutboundMessage, ShipProgress } from '../../../src/transport/types.js';
import { tempDir } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const lines = (...ls: string[]): OutboundMessage[] => [
  { value: ls.map((l) => `${l}\n`).join(''), headers: { 'weblog-source': 'a.log', 'weblog-offset': '0' } },
];
const progress = (key: string, offset: number, done = false): ShipProgress => ({ key, etag: 'e', offset, lines: 0, done, size: offset }) as ShipProgress;
const stateFile = () => path.join(tempDir('weblog-memory-', cleanups), 'state.json');

/** Consumes until the queue is drained; `fail` makes the handler throw on the batch holding that offset. */
async function consume(q: MemoryTransport, opts: { fail?: number } = {}): Promise<{ batches: LogBatch[]; error: unknown }> {
  const batches: LogBatch[] = [];
  let error: unknown;
  const c = q.consumer();
  c.onFatal((e) => (error = e));
  await c.start(async (b) => {
    if (opts.fail !== undefined && b.messages.some((m) => m.offset === opts.fail)) throw new WeblogError('INSERT_REJECTED', 'refused');
    batches.push(b);
  });
  q.end();
  await c.drained;
  return { batches, error };
}

describe('MemoryTransport', () => {
  it('gives every line its own offset, in order, and saves the progress and the next offset once committed', async () => {
    const file = stateFile();
    const q = new MemoryTransport({ stateFile: file });
    expect(q.stateLoaded).toBe(false);
    const sink = q.shipSink();
    await sink.ship('t', lines('a', 'b', 'c'), progress('a.log', 6), 0);
    await sink.ship('t', lines('d'), progress('a.log', 8, true), 6);
    const { batches } = await consume(q);
    const got = batches.flatMap((b) => b.messages.map((m) => [m.offset, m.line, m.value, m.source]));
    expect(got).toEqual([
      [0, 0, 'a', 'a.log'],
      [1, 0, 'b', 'a.log'],
      [2, 0, 'c', 'a.log'],
      [3, 0, 'd', 'a.log'],
    ]);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { nextOffset: number; progress: Record<string, ShipProgress>; unfinished: unknown[] };
    expect(saved.nextOffset).toBe(4);
    expect(saved.progress['a.log']).toMatchObject({ offset: 8, done: true });
    expect(saved.unfinished).toEqual([]);

    const again = new MemoryTransport({ stateFile: file }); // the next run continues the offsets
    expect(again.stateLoaded).toBe(true);
    expect(again.committedOffset).toBe(4);
    await again.shipSink().ship('t', lines('e'), progress('b.log', 2), 0);
    expect((await consume(again)).batches[0]?.messages[0]?.offset).toBe(4);
  });

  it('a handler that fails for good commits nothing: no progress, no offset, the ship call stays unfinished for the next run', async () => {
    const file = stateFile();
    const q = new MemoryTransport({ stateFile: file });
    await q.shipSink().ship('t', lines('a', 'b'), progress('a.log', 4), 0);
    const { batches, error } = await consume(q, { fail: 0 });
    expect(batches).toEqual([]);
    expect((error as WeblogError).code).toBe('INSERT_REJECTED');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      nextOffset: number;
      progress: Record<string, unknown>;
      unfinished: { first: number; count: number }[];
    };
    expect(saved.nextOffset).toBe(0);
    expect(saved.progress).toEqual({});
    expect(saved.unfinished).toMatchObject([{ first: 0, count: 2 }]);
    // The next run replays that call at the same positions.
    const next = new MemoryTransport({ stateFile: file });
    const [u] = next.shipSink().unfinished?.() ?? [];
    expect(u).toMatchObject({ first: 0, count: 2, from: 0 });
    await next.shipSink().reship?.(u as never, lines('a', 'b'));
    expect((await consume(next)).batches.flatMap((b) => b.messages.map((m) => m.offset))).toEqual([0, 1]);
  });

  it('an abandoned ship call keeps its positions given out: new lines start after them', async () => {
    const file = stateFile();
    writeFileSync(file, JSON.stringify({ nextOffset: 10, progress: {}, unfinished: [{ first: 10, count: 5, from: 0, progress: progress('gone.log', 50) }] }));
    const q = new MemoryTransport({ stateFile: file });
    const sink = q.shipSink();
    const [u] = sink.unfinished?.() ?? [];
    sink.abandon?.(u as never);
    await sink.ship('t', lines('x'), progress('new.log', 2), 0);
    expect((await consume(q)).batches[0]?.messages[0]?.offset).toBe(15);
  });

  it('refuses a state file it did not write, naming it and what to do', () => {
    const file = stateFile();
    writeFileSync(file, '{"nextOffset": -3}');
    expect(() => new MemoryTransport({ stateFile: file })).toThrow(/is not one weblog wrote; restore it, or start over with --reset/);
    writeFileSync(file, 'not json');
    expect(() => new MemoryTransport({ stateFile: file })).toThrow(/cannot be read/);
  });

  it('persist() writes the state before anything is stored (a first run killed early leaves a state file)', () => {
    const file = stateFile();
    const q = new MemoryTransport({ stateFile: file });
    expect(existsSync(file)).toBe(false);
    q.persist();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ nextOffset: 0, progress: {} });
  });

  it('a producer waiting for space sees the end of the queue', async () => {
    const q = new MemoryTransport({ stateFile: stateFile(), capacity: 2 });
    const sink = q.shipSink();
    await sink.ship('t', lines('a', 'b'), progress('a.log', 4), 0);
    const waiting = sink.ship('t', lines('c'), progress('a.log', 6), 4);
    q.end();
    await expect(waiting).rejects.toThrow(/closed/);
  });
});
