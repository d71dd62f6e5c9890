/**
 * Which objects this shipper ships: its static share (`--replicas N
 * --replica-index I`, by a hash of the key), or the slots its shipper group
 * assigned it (transport's ShipOwnership), which change as shippers join and
 * die.
 */
import { WeblogError } from '../errors.js';
import { retry, sleep } from '../retry.js';
import type { ShipOwnership } from '../transport/types.js';
import type { FloorScopes } from './progress-index.js';
import { shardOf } from './shard.js';

/** The key of slot `slot`'s floor record (`keyOf` a scope): named for the slot, with the first suffix that hashes to it. */
export function slotFloorKey(keyOf: (scope: string) => string, slot: number, slots: number): string {
  for (let i = 0; ; i++) {
    const key = keyOf(`slot ${slot}/${slots}#${i}`);
    if (shardOf(key, slots) === slot) return key;
  }
}

export class Owner {
  /** The group assignment the progress was last read for. */
  private seen = -1;
  /** Ends the current pause(). */
  private wake: AbortController | undefined;

  constructor(
    private readonly replicas: number,
    private readonly index: number,
    private readonly group?: ShipOwnership,
  ) {
    if (!(Number.isInteger(replicas) && replicas >= 1 && Number.isInteger(index) && index >= 0 && index < replicas)) {
      throw new WeblogError('CONFIG_INVALID', `--replica-index must be 0..${replicas - 1} and --replicas >= 1 (got ${index} of ${replicas})`);
    }
    // One listener for the whole run (one per pause would pile up over days of polling).
    group?.onChange(() => {
      if (group.generation !== this.seen) this.wake?.abort();
    });
  }

  /**
   * The listing floors this shipper keeps, as keys of records (`keyOf` a scope):
   * one for its static share; in a group, one per slot it owns now, so a slot
   * moves to its next owner with its floor. A slot's record key hashes to the
   * slot itself, so the slot's producer writes it, fenced like the slot's
   * objects: a former owner cannot move the floor once the slot moved.
   */
  floorScopes(keyOf: (scope: string) => string): FloorScopes {
    const g = this.group;
    if (!g) {
      const key = keyOf(`${this.index}/${this.replicas}`);
      return { keys: [key], of: (k) => (this.owns(k) ? key : undefined) };
    }
    const n = g.slots;
    const keys = new Map<number, string>();
    for (let slot = 0; slot < n; slot++) if (g.owns(slot)) keys.set(slot, slotFloorKey(keyOf, slot, n));
    return { keys: [...keys.values()], of: (k) => keys.get(shardOf(k, n)) };
  }

  owns(key: string): boolean {
    if (this.group) return this.group.owns(shardOf(key, this.group.slots));
    return shardOf(key, this.replicas) === this.index;
  }

  /**
   * The group assigned slots anew (or began to) since the progress was last read: what was decided from it may be
   * stale (another shipper may have shipped more of an object meanwhile), so the object in hand stops at its next
   * batch and the pass ends; the next one starts from a sync().
   */
  get stale(): boolean {
    return this.group !== undefined && this.group.generation !== this.seen;
  }

  /** Takes up a new assignment (fencing the slots' former owners), then `reload`s the progress; nothing to do without a group. */
  async sync(signal: AbortSignal, reload: () => Promise<void>): Promise<void> {
    const g = this.group;
    while (g && g.generation !== this.seen && !signal.aborted) {
      await g.ready(signal);
      const gen = g.generation;
      await retry(() => g.claim(), { signal, maxAttempts: 10 });
      await reload();
      this.seen = gen;
    }
  }

  /** Waits `ms`, or less when the group assigns slots anew (a dead shipper's objects are taken over at once). */
  async pause(ms: number, signal: AbortSignal): Promise<void> {
    if (this.stale) return;
    const wake = (this.wake = new AbortController());
    const stop = () => wake.abort();
    signal.addEventListener('abort', stop, { once: true });
    await sleep(ms, wake.signal).catch(() => undefined);
    signal.removeEventListener('abort', stop);
    this.wake = undefined;
  }
}
