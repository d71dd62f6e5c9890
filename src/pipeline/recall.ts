/**
 * What a shipper reading event notifications keeps in memory. A notification
 * may name any object again (S3 delivers at least once, a message comes back
 * after its visibility timeout, a reconciling pass lists old keys), so the
 * progress of every object shipped must stay *findable*; it need not stay in
 * memory. Settled records (shipped to the end, or skipped) of objects whose
 * key time is older than the window are forgotten, and the *horizon* says up
 * to which key time that happened. An object not in memory whose key time is
 * after the horizon was never shipped (nothing of that time was forgotten);
 * one before it is looked up in the progress topic, all such objects of a
 * batch in one read. Memory then follows the window and the objects in
 * flight, not every object ever shipped. A key that names no time is never
 * forgotten (so one absent from memory was never shipped).
 */
import { retry } from '../retry.js';
import { keyTime } from '../source/key-time.js';
import type { SourceObject } from '../source/objects.js';
import type { ShipProgress, ShipSink } from '../transport/types.js';
import type { Lookback } from './listing.js';
import { FLOOR_PREFIX, ProgressIndex } from './progress-index.js';

export class Recall {
  /** Records of key time at or before it may have been forgotten (ms); none before the first forget. */
  private horizon = -Infinity;

  /** Records whose key time is this much older than now are forgotten once settled (ms): --lookback as a duration, else 1 h. */
  private readonly windowMs: number;

  constructor(lookback?: Lookback) {
    this.windowMs = lookback && 'ms' in lookback ? lookback.ms : 3600_000;
  }

  /** Whether `p` may be left out of memory at `now`: settled, not failed, with a key time before the window. */
  forgettable(p: ShipProgress, now: number): boolean {
    if (p.key.startsWith(FLOOR_PREFIX) || p.failed !== undefined || !(p.done || p.skipped !== undefined)) return false;
    const t = keyTime(p.key)?.ms;
    return t !== undefined && t < now - this.windowMs;
  }

  /** After a read that left out the forgettable records at `now`. */
  forgotUpTo(now: number): void {
    this.horizon = Math.max(this.horizon, now - this.windowMs);
  }

  /** Forgets the forgettable records of `progress`; how many. */
  forget(progress: ProgressIndex, now = Date.now()): number {
    const n = progress.dropWhere((p) => this.forgettable(p, now));
    this.forgotUpTo(now);
    return n;
  }

  /** Keys of `keys` absent from memory that may have been forgotten: to be read from the progress topic first. */
  missing(progress: ProgressIndex, keys: Iterable<string>): string[] {
    if (this.horizon === -Infinity) return [];
    const out: string[] = [];
    for (const key of keys) {
      if (progress.get(key) !== undefined) continue;
      const t = keyTime(key)?.ms;
      if (t !== undefined && t < this.horizon) out.push(key);
    }
    return out;
  }
}

/** The progress a notified shipper starts with: every record but the forgettable ones (Recall.forgettable). */
export async function readRecent(sink: ShipSink, recall: Recall, signal: AbortSignal, now = Date.now()): Promise<ProgressIndex> {
  const records = await retry(() => sink.loadProgress({ record: (p) => !recall.forgettable(p, now) }), { signal });
  recall.forgotUpTo(now);
  return new ProgressIndex(records.values());
}

/** Reads the records of `objects` that may have been forgotten back into `progress` (one read of the topic); how many keys were looked up. */
export async function recallMissing(
  sink: ShipSink,
  recall: Recall,
  progress: ProgressIndex,
  objects: readonly SourceObject[],
  signal: AbortSignal,
): Promise<number> {
  const keys = new Set(
    recall.missing(
      progress,
      objects.map((o) => o.key),
    ),
  );
  if (keys.size === 0) return 0;
  const found = await retry(() => sink.loadProgress({ key: (k) => keys.has(k) }), { signal });
  for (const p of found.values()) progress.set(p);
  return keys.size;
}
