/**
 * What a shipper keeps of its progress after each pass: not the records of
 * objects another shipper owns (another slot of its group, another static
 * replica), which a whole read (a reconciling listing) brought in, except
 * while slots move; floor records stay. Local files keep every record.
 */
import { describe, expect, it } from 'vitest';
import { ShipMemory } from '../../../src/pipeline/ship-memory.js';
import { FLOOR_PREFIX, ProgressIndex } from '../../../src/pipeline/progress-index.js';
import { silentLogger } from '../../../src/observe/log.js';
import type { ObjectSource } from '../../../src/source/objects.js';
import type { ShipProgress, ShipSink } from '../../../src/transport/types.js';

const rec = (key: string, o: Partial<ShipProgress> = {}): ShipProgress => ({ key, etag: key, offset: 5, lines: 1, done: true, updatedAt: 0, ...o });

function memoryOf(appendable: boolean, notified = false): ShipMemory {
  const source = { appendable, listsFrom: !appendable, describe: () => 'test', list: async () => [] } as unknown as ObjectSource;
  const sink = {} as ShipSink; // trim reads nothing
  const m = new ShipMemory(source, sink, { topic: 't' }, notified, silentLogger, new AbortController().signal);
  m.progress = new ProgressIndex([
    rec('logs/mine-done'),
    rec('logs/mine-open', { done: false }),
    rec('logs/theirs-done'),
    rec('logs/theirs-open', { done: false }),
    rec(`${FLOOR_PREFIX}floor theirs`),
  ]);
  return m;
}

const mine = (key: string) => key.includes('mine');
const keys = (m: ShipMemory) => [...m.progress.values()].map((p) => p.key).sort();

describe('ShipMemory.trim', () => {
  it("drops other shippers' records (a whole read brings them in), keeps its own and the floor records", () => {
    for (const notified of [false, true]) {
      const m = memoryOf(false, notified);
      m.trim(() => undefined, mine);
      expect(keys(m), `notified: ${notified}`).toEqual([`${FLOOR_PREFIX}floor theirs`, 'logs/mine-done', 'logs/mine-open']);
    }
  });

  it('local files keep every record: a rotation may rename a file into another share', () => {
    const m = memoryOf(true);
    m.trim(() => undefined, mine);
    expect(keys(m)).toHaveLength(5);
  });

  it('behind its floor: only its own settled records go', () => {
    const m = memoryOf(false);
    m.trim(
      () => 'logs/z',
      () => true,
    );
    expect(keys(m)).toEqual([`${FLOOR_PREFIX}floor theirs`, 'logs/mine-open', 'logs/theirs-open']);
    expect(m.partial).toBe(true);
  });
});
