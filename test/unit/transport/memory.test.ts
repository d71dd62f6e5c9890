import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { MemoryTransport } from '../../../src/transport/memory.js';
import type { LogBatch, ShipProgress } from '../../../src/transport/types.js';
import { tempDir } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

const progress = (key: string, offset: number, lines: number): ShipProgress => ({ key, etag: 'e', offset, lines, done: false, updatedAt: 0 });

describe('the in-process queue', () => {
  it('after a crash mid ship-call, the lines shipped again get the offsets they had (a batch cut across two ship calls)', async () => {
    const stateFile = path.join(tempDir('weblog-memq-', cleanups), 'state.json');
    const first = new MemoryTransport({ stateFile, maxBatch: 3, flushIntervalMs: 5 });
    const sink = first.shipSink();
    await sink.ship(first.topic, [{ value: 'a1' }, { value: 'a2' }], progress('a', 6, 2), 0);
    await sink.ship(first.topic, [{ value: 'b1' }, { value: 'b2' }, { value: 'b3' }], progress('b', 9, 3), 6);
    const batches: LogBatch[] = [];
    const consumer = first.consumer();
    let crash!: () => void;
    const crashed = new Promise<void>((r) => (crash = r));
    await consumer.start(async (b) => {
      batches.push(b);
      if (batches.length === 2) {
        crash();
        await new Promise(() => undefined); // kill -9 while the second batch is in flight
      }
    });
    await crashed;
    expect(batches[0]?.messages.map((m) => [m.value, m.offset])).toEqual([
      ['a1', 0],
      ['a2', 1],
      ['b1', 2],
    ]);
    // The state file is what survives. b's progress was not saved (b2, b3 were not stored), so b ships again from its start.
    const second = new MemoryTransport({ stateFile, maxBatch: 10, flushIntervalMs: 5 });
    const saved = await second.shipSink().loadProgress();
    expect([...saved.keys()]).toEqual(['a']);
    const again: LogBatch[] = [];
    await second.consumer().start(async (b) => {
      again.push(b);
    });
    await second.shipSink().ship(second.topic, [{ value: 'b1' }, { value: 'b2' }, { value: 'b3' }], progress('b', 9, 3), 6);
    await second.consumedAll();
    // b1 had offset 2 and may be stored: it must come again as offset 2, so the processor skips it, not as a new line.
    expect(again.flatMap((b) => b.messages.map((m) => [m.value, m.offset]))).toEqual([
      ['b1', 2],
      ['b2', 3],
      ['b3', 4],
    ]);
  });
});
