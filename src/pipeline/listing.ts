/**
 * What each pass of the shipper lists, so that a pass costs what is new, not
 * the whole bucket. In an ordered bucket (keys sort by the time they name:
 * ELB, CloudFront, S3 server access logs, dated rotations) every key at or
 * before the *floor* is shipped and never listed again, and a pass lists
 * with StartAfter = floor. The floor only moves over keys that are settled
 * (shipped, failed or skipped) and older than the lookback window behind the
 * newest key (`--lookback 1h` of key time, or a count of keys), so objects
 * that arrive a little out of order are still found. `--reconcile` lists the
 * whole prefix now and then, for objects that arrive later than that.
 * `--since` / `--until` keep the objects whose key time (else last-modified
 * time) is in range. `--since` alone starts a shipper there: keys before it
 * are passed over for good, and the floor records the time it covers from,
 * so a later run with an earlier `--since` lists the whole prefix once. A run
 * with `--until` is a backfill: it lists the whole prefix and leaves the
 * floor alone, so the objects after its range stay for the runs that want
 * them, and a range behind the floor is listed again.
 */
import { WeblogError } from '../errors.js';
import { keysSortByTime, keyTime } from '../source/key-time.js';
import { compareKeys, type SourceObject } from '../source/objects.js';
import { parseDurationMs } from '../duration.js';

export type ListingMode = 'auto' | 'ordered' | 'full';

/** The lookback window: key time (ms) or a count of keys. */
export type Lookback = { ms: number } | { keys: number };

export interface ListingOptions {
  /** auto (default): ordered once a full listing shows keys sorted by time; ordered; full (every pass lists everything). */
  mode?: ListingMode | undefined;
  lookback?: Lookback | undefined;
  /** A whole listing this often in ordered mode, ms (default: never). */
  reconcileMs?: number | undefined;
  /** Ship objects whose key time (else last-modified time) is >= since and < until, ms. */
  since?: number | undefined;
  until?: number | undefined;
  /** The first pass lists the whole prefix (--retry-failed, --skip-failed: failed objects lie behind the floor). */
  fullFirst?: boolean | undefined;
}

export const listingDefaults = {
  mode: 'auto' as ListingMode,
  lookback: { ms: 3600_000 } as Lookback,
  /** A full pass over this many objects is warned about (once). */
  warnObjects: 10_000,
} as const;

/** "1h", "30m", "2d", "90s" as ms; a bare count ("500") as keys. */
export function parseLookback(text: string): Lookback {
  const t = text.trim();
  if (/^\d+$/.test(t) && Number(t) >= 1) return { keys: Number(t) };
  const ms = parseDurationMs(t);
  if (ms === undefined || ms <= 0)
    throw new WeblogError('CONFIG_INVALID', `--lookback: expected a duration (90s, 30m, 1h, 2d) or a count of keys (500); got "${text}"`);
  return { ms };
}

export { parseDurationMs };

/** `--since` / `--until`: a date (2026-12-01, UTC), a time (2026-12-01T06:00, UTC unless it names a zone), or a duration back from now (7d). */
export function parseTimeBound(option: string, text: string, now = Date.now()): number {
  const t = text.trim();
  const back = parseDurationMs(t);
  if (back !== undefined) return now - back;
  let ms = NaN;
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) ms = Date.parse(`${t}T00:00:00Z`);
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/.test(t)) ms = Date.parse(`${t.replace(' ', 'T')}Z`);
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/.test(t)) ms = Date.parse(t.replace(' ', 'T'));
  if (!Number.isFinite(ms))
    throw new WeblogError(
      'CONFIG_INVALID',
      `--${option}: expected a date (2026-12-01), a time (2026-12-01T06:00Z) or a duration back from now (7d); got "${text}"`,
    );
  return ms;
}

/** The time an object counts at for --since / --until: its key's, else its last-modified time. */
export const objectTime = (o: SourceObject): number => keyTime(o.key)?.ms ?? o.lastModified;

/** Whether `o` is in the --since / --until range of `opts`. */
export function inRange(opts: Pick<ListingOptions, 'since' | 'until'>, o: SourceObject): boolean {
  const { since, until } = opts;
  if (since === undefined && until === undefined) return true;
  const t = objectTime(o);
  return (since === undefined || t >= since) && (until === undefined || t < until);
}

/** Refuses options that cannot go together (the CLI calls it before connecting to anything). */
export function checkListing(opts: ListingOptions, listsFrom: boolean): void {
  if (opts.mode === 'ordered' && !listsFrom)
    throw new WeblogError('CONFIG_INVALID', '--listing ordered: only an S3 source lists from a key; a local folder is read whole each pass');
  if (opts.since !== undefined && opts.until !== undefined && opts.since >= opts.until)
    throw new WeblogError('CONFIG_INVALID', '--since must be before --until');
}

export class ListingPlan {
  private readonly mode: ListingMode;
  private readonly lookback: Lookback;
  /** Listing from the floor (ordered mode, or auto once keys were seen sorted by time). */
  private ordered: boolean;
  private lastFull = 0;
  private fullDue: boolean;
  /** A key without a time held the floor (under a lookback by time). */
  noTimeSeen = false;
  /** A backfill (--until): lists the whole prefix, and neither reads nor moves the floor. */
  readonly bounded: boolean;

  constructor(
    private readonly opts: ListingOptions,
    /** Keys at or before it are shipped (or were passed over, before `floorFrom`); from the progress topic. */
    public floor: string | undefined,
    /** Whether the source lists from a key (S3 does; a local folder is read whole). */
    listsFrom: boolean,
    /** The time the floor covers from, ms: objects before it, behind the floor, were passed over (--since); 0: none. */
    public floorFrom = 0,
  ) {
    this.mode = opts.mode ?? listingDefaults.mode;
    this.lookback = opts.lookback ?? listingDefaults.lookback;
    checkListing(opts, listsFrom);
    this.bounded = opts.until !== undefined;
    if (!listsFrom || this.bounded) this.floor = undefined;
    if (this.floor === undefined) this.floorFrom = 0;
    // An earlier --since than the floor covers (or none): objects behind the floor may never have been shipped.
    this.fullDue = opts.fullFirst === true || (this.floor !== undefined && this.floorFrom !== 0 && (opts.since ?? -Infinity) < this.floorFrom);
    this.ordered = listsFrom && !this.bounded && (this.mode === 'ordered' || (this.mode === 'auto' && this.floor !== undefined));
  }

  /** Where this pass lists from: undefined for the whole prefix. */
  startAfter(now = Date.now()): string | undefined {
    if (!this.ordered || this.floor === undefined) return undefined;
    if (this.fullDue) return undefined;
    if (this.opts.reconcileMs !== undefined && now - this.lastFull >= this.opts.reconcileMs) return undefined;
    return this.floor;
  }

  get isOrdered(): boolean {
    return this.ordered;
  }

  /** Whether `o` is in the --since / --until range. */
  inRange(o: SourceObject): boolean {
    return inRange(this.opts, o);
  }

  /**
   * After a pass over `listed` (key order; what was listed from `from`):
   * switches auto mode on or off, and moves the floor over the settled keys
   * older than the lookback window. Returns what changed, for the log.
   */
  afterPass(
    listed: readonly SourceObject[],
    from: string | undefined,
    settled: (o: SourceObject) => boolean,
    now = Date.now(),
  ): { floorMoved: boolean; orderedNow?: boolean; outOfOrder?: string } {
    const out: { floorMoved: boolean; orderedNow?: boolean; outOfOrder?: string } = { floorMoved: false };
    if (from === undefined) {
      this.lastFull = now;
      this.fullDue = false;
    }
    if (this.mode === 'full' || this.bounded || listed.length === 0) return out;
    if (this.mode === 'auto') {
      const sorted = keysSortByTime(listed.map((o) => o.key));
      const ordered = sorted?.ordered === true;
      if (ordered !== this.ordered) {
        this.ordered = ordered;
        out.orderedNow = ordered;
        if (!ordered) {
          if (sorted?.firstOutOfOrder) out.outOfOrder = sorted.firstOutOfOrder;
          this.floor = undefined;
          this.floorFrom = 0;
          out.floorMoved = true;
          return out;
        }
      }
      if (!ordered) return out;
    }
    const before = this.floor;
    const next = this.floorOver(listed, settled);
    if (next !== undefined && (before === undefined || compareKeys(next, before) > 0)) {
      this.floor = next;
      out.floorMoved = true;
    }
    if (this.floor !== undefined) {
      const from0 = this.floorFrom;
      // A whole listing covers from --since only if it settled every object up to the old floor (none postponed).
      const whole = from === undefined && listed.every((o) => (before !== undefined && compareKeys(o.key, before) > 0) || settled(o));
      this.floorFrom = coveredFrom(this.opts.since, whole ? undefined : (before ?? ''), from0);
      if (this.floorFrom !== from0) out.floorMoved = true;
    }
    return out;
  }

  /** The last key of the longest settled run from the start of `listed` that lies before the lookback window. */
  private floorOver(listed: readonly SourceObject[], settled: (o: SourceObject) => boolean): string | undefined {
    let end = listed.length;
    let cutoff = Infinity;
    if ('keys' in this.lookback) end -= this.lookback.keys;
    else {
      let newest = -Infinity;
      for (const o of listed) newest = Math.max(newest, keyTime(o.key)?.ms ?? -Infinity);
      cutoff = newest - this.lookback.ms;
    }
    let floor: string | undefined;
    for (let i = 0; i < end; i++) {
      const o = listed[i] as SourceObject;
      if (!settled(o)) break;
      if ('ms' in this.lookback) {
        const t = keyTime(o.key);
        if (!t) {
          this.noTimeSeen = true;
          break;
        }
        if (t.ms > cutoff) break;
      }
      floor = o.key;
    }
    return floor;
  }
}

/**
 * The time a floor covers from after a pass with `since`: a whole listing
 * that settled everything up to the old floor (`listedFrom` undefined)
 * covered every key from `since`; a pass from a floor whose key time is
 * before `since` (or unknown: no floor, a key without a time) leaves a gap,
 * so the floor covers from `since` at most.
 */
export function coveredFrom(since: number | undefined, listedFrom: string | undefined, before: number): number {
  if (listedFrom === undefined) return since ?? 0;
  if (since === undefined) return before;
  const t = keyTime(listedFrom)?.ms;
  return t === undefined || since > t ? Math.max(before, since) : before;
}

/** The poll interval with --follow: doubles while passes find nothing new, up to `maxMs`; back to `baseMs` when one does. */
export class PollBackoff {
  private current: number;
  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {
    this.current = baseMs;
  }

  next(foundNew: boolean): number {
    const wait = foundNew ? this.baseMs : this.current;
    this.current = foundNew ? this.baseMs : Math.min(Math.max(this.baseMs, this.maxMs), wait * 2);
    return wait;
  }
}
