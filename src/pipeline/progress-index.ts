/**
 * The shipper's progress records, found three ways: by object key; by
 * identity (a local file's dev:inode, which a rename keeps: logrotate's
 * default `mv a.log a.log.1`); and by content fingerprint (the FNV-1a of the
 * first bytes, which a copy keeps: `copytruncate`, and a rotated file
 * compressed later: `a.log.1` becoming `a.log.1.gz`). Every lookup is a map
 * read, so a new file costs the same whatever the number of objects shipped.
 */
import { retry } from '../retry.js';
import { compareKeys } from '../source/objects.js';
import type { ProgressFilter, ShipProgress, ShipSink } from '../transport/types.js';

/** Floor records' keys begin with this (lister.ts FLOOR); no object key does. */
export const FLOOR_PREFIX = '\u0000';

/**
 * Whether an ordered listing never needs `p` again: an object shipped to the
 * end (or skipped) whose key sorts at or before `floor`. Records of
 * unfinished or failed objects are needed (a restart resumes them; failures
 * stay reported), and so are the floor records themselves.
 */
export function behindFloor(p: ShipProgress, floor: string): boolean {
  return compareKeys(p.key, floor) <= 0 && !p.key.startsWith(FLOOR_PREFIX) && (p.done || p.skipped !== undefined) && p.failed === undefined;
}

export class ProgressIndex {
  private readonly byKey = new Map<string, ShipProgress>();
  private readonly byEtag = new Map<string, ShipProgress>();
  private readonly byHead = new Map<string, Set<ShipProgress>>();
  /** How many records have a fingerprint of each length (there are at most 256 lengths). */
  private readonly headLengthCount = new Map<number, number>();

  constructor(records: Iterable<ShipProgress> = []) {
    // Oldest first, so the newest record of an identity wins.
    for (const p of [...records].sort((a, b) => a.updatedAt - b.updatedAt)) this.set(p);
  }

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): ShipProgress | undefined {
    return this.byKey.get(key);
  }

  values(): IterableIterator<ShipProgress> {
    return this.byKey.values();
  }

  /** The newest record of an identity (dev:inode, S3 ETag). */
  ofEtag(etag: string): ShipProgress | undefined {
    return this.byEtag.get(etag);
  }

  /** Fingerprint lengths in use, longest first. */
  headLengths(): number[] {
    return [...this.headLengthCount.keys()].sort((a, b) => b - a);
  }

  /** Records whose first `length` bytes have fingerprint `head`. */
  withHead(length: number, head: string): ShipProgress[] {
    return [...(this.byHead.get(`${length}:${head}`) ?? [])];
  }

  /**
   * Forgets the records behind the floor (behindFloor): an ordered listing
   * never lists them again, so memory follows the lookback window, not every
   * object ever shipped. A pass that lists the whole prefix loads them again
   * first.
   */
  dropSettledUpTo(floor: string): number {
    return this.dropSettled(() => floor);
  }

  /** dropSettledUpTo with a floor per key (one per slot of a shipper group); undefined: no floor for that key. */
  dropSettled(floorOf: (key: string) => string | undefined): number {
    return this.dropWhere((p) => {
      const floor = floorOf(p.key);
      return floor !== undefined && behindFloor(p, floor);
    });
  }

  /** Forgets the records `drop` picks; how many. */
  dropWhere(drop: (p: ShipProgress) => boolean): number {
    let n = 0;
    for (const [key, p] of this.byKey) {
      if (!drop(p)) continue;
      this.byKey.delete(key);
      if (this.byEtag.get(p.etag) === p) this.byEtag.delete(p.etag);
      this.unindexHead(p);
      n++;
    }
    return n;
  }

  set(p: ShipProgress): void {
    const old = this.byKey.get(p.key);
    if (old) {
      if (this.byEtag.get(old.etag) === old) this.byEtag.delete(old.etag);
      this.unindexHead(old);
    }
    this.byKey.set(p.key, p);
    const same = this.byEtag.get(p.etag);
    if (!same || same.updatedAt <= p.updatedAt) this.byEtag.set(p.etag, p);
    if (p.head !== undefined && p.headLength) {
      const k = `${p.headLength}:${p.head}`;
      let set = this.byHead.get(k);
      if (!set) this.byHead.set(k, (set = new Set()));
      set.add(p);
      this.headLengthCount.set(p.headLength, (this.headLengthCount.get(p.headLength) ?? 0) + 1);
    }
  }

  private unindexHead(p: ShipProgress): void {
    if (p.head === undefined || !p.headLength) return;
    const k = `${p.headLength}:${p.head}`;
    const set = this.byHead.get(k);
    if (set?.delete(p)) {
      if (set.size === 0) this.byHead.delete(k);
      const n = (this.headLengthCount.get(p.headLength) ?? 1) - 1;
      if (n <= 0) this.headLengthCount.delete(p.headLength);
      else this.headLengthCount.set(p.headLength, n);
    }
  }
}

/**
 * The listing floors a shipper keeps: the keys of their records in the
 * progress topic (one for a static share, one per slot a group member owns),
 * and which of them covers an object key (undefined: another shipper's).
 */
export interface FloorScopes {
  readonly keys: readonly string[];
  of(key: string): string | undefined;
}

/**
 * The progress records from the sink. With floor keys (a shipper that may
 * list from a floor) the floor records are read first, then only the records
 * a listing from those floors can meet, of this shipper's objects: a start's
 * time and memory then follow the lookback window and the unfinished
 * objects, not every object ever shipped. Without them, or with a single
 * floor key that has no record yet, every record. `filtered`: some behind a floor were left out.
 */
export async function readProgress(
  sink: ShipSink,
  floorKeys: string | FloorScopes | undefined,
  signal: AbortSignal,
): Promise<{ progress: ProgressIndex; floor: string | undefined; filtered: boolean }> {
  const load = (filter?: ProgressFilter) => retry(() => sink.loadProgress(filter), { signal });
  if (floorKeys === undefined) return { progress: new ProgressIndex((await load()).values()), floor: undefined, filtered: false };
  const scopes: FloorScopes = typeof floorKeys === 'string' ? { keys: [floorKeys], of: () => floorKeys } : floorKeys;
  const wanted = new Set(scopes.keys);
  const floors = new Map<string, string>();
  for (const [k, p] of await load({ key: (key) => wanted.has(key) })) if (p.etag) floors.set(k, p.etag);
  const floor = scopes.keys.length === 1 ? floors.get(scopes.keys[0] as string) : undefined;
  if (typeof floorKeys === 'string' && floor === undefined) return { progress: new ProgressIndex((await load()).values()), floor, filtered: false };
  const keep = (p: ShipProgress): boolean => {
    if (p.key.startsWith(FLOOR_PREFIX)) return true;
    const scope = scopes.of(p.key);
    if (scope === undefined) return false;
    const f = floors.get(scope);
    return f === undefined || !behindFloor(p, f);
  };
  // Only records behind a floor are missing for this shipper (other shippers' objects are never its to ship).
  return { progress: new ProgressIndex((await load({ record: keep })).values()), floor, filtered: floors.size > 0 };
}
