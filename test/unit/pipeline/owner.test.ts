/**
 * Which listing floors a shipper keeps: one for a static share; in a group,
 * one per slot it owns, each record keyed so that it hashes to its slot (the
 * slot's producer writes it, fenced like the slot's objects).
 */
import { describe, expect, it } from 'vitest';
import { Owner, slotFloorKey } from '../../../src/pipeline/owner.js';
import { shardOf } from '../../../src/pipeline/shard.js';
import type { ShipOwnership } from '../../../src/transport/types.js';

const base = '\u0000floor:s3://b/logs/';
const keyOf = (scope: string) => `${base} ${scope}`;

function group(owned: number[], slots = 12): ShipOwnership {
  return {
    slots,
    generation: 1,
    owns: (s) => owned.includes(s),
    ready: async () => undefined,
    claim: async () => undefined,
    onChange: () => undefined,
  };
}

describe('floor scopes', () => {
  it('a slot floor record key names its slot and hashes to it, for every slot count', () => {
    for (const n of [1, 2, 3, 12, 64])
      for (let s = 0; s < n; s++) {
        const k = slotFloorKey(keyOf, s, n);
        expect(k.startsWith(`${base} slot ${s}/${n}#`)).toBe(true);
        expect(shardOf(k, n)).toBe(s);
        expect(slotFloorKey(keyOf, s, n)).toBe(k); // stable: every owner finds the same record
      }
  });

  it('a static share keeps one floor, covering its own objects only', () => {
    const owner = new Owner(3, 1);
    const scopes = owner.floorScopes(keyOf);
    expect(scopes.keys).toEqual([`${base} 1/3`]);
    const keys = Array.from({ length: 60 }, (_, i) => `logs/k${i}`);
    for (const k of keys) expect(scopes.of(k)).toBe(shardOf(k, 3) === 1 ? `${base} 1/3` : undefined);
  });

  it('a group member keeps one floor per slot it owns; keys of other slots are no floor of its', () => {
    const owner = new Owner(1, 0, group([2, 5, 7]));
    const scopes = owner.floorScopes(keyOf);
    expect(scopes.keys).toEqual([2, 5, 7].map((s) => slotFloorKey(keyOf, s, 12)));
    const keys = Array.from({ length: 200 }, (_, i) => `logs/2026-12-06-${i}`);
    for (const k of keys) {
      const slot = shardOf(k, 12);
      expect(scopes.of(k)).toBe([2, 5, 7].includes(slot) ? slotFloorKey(keyOf, slot, 12) : undefined);
    }
    expect(new Owner(1, 0, group([])).floorScopes(keyOf).keys).toEqual([]);
  });
});
