/**
 * The shipper's listing per pass: from the floor in an ordered bucket, the
 * whole prefix otherwise (listing.ts decides); the floor is kept in the
 * progress topic as a record of its own, so a restart lists from it too.
 * A member of a shipper group keeps one floor per slot it owns (a slot moves
 * to another member with its floor) and lists from the lowest.
 */
import { describeError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { retry } from '../retry.js';
import { compareKeys, type ObjectSource, type SourceObject } from '../source/objects.js';
import type { ShipProgress, ShipSink } from '../transport/types.js';
import { inRange, listingDefaults, ListingPlan, type ListingOptions } from './listing.js';
import type { FloorScopes } from './progress-index.js';
import type { ListMetrics } from './ship-metrics.js';

/** Key prefix of the floor records in the progress topic; no object has such a name. */
export const FLOOR = '\u0000floor:';

/**
 * The key of one shipper's floor record: its source and its share (`scope`:
 * a static replica's `I/N`, a group slot's `slot S/N#i`; Owner.floorScopes).
 * The record's etag is the floor key; its offset the time (ms) the floor
 * covers from (ListingPlan.floorFrom; 0: every key behind it).
 */
export const floorKeyOf = (source: ObjectSource, scope: string): string => `${FLOOR}${source.describe()} ${scope}`;

export class ShipLister {
  /** One plan per floor this shipper keeps (FloorScopes), by the key of its record. */
  private readonly plans = new Map<string, ListingPlan>();
  private warnedBig = false;
  private warnedNoTime = false;
  private seen: { requests: number; objects: number };

  constructor(
    private readonly source: ObjectSource,
    private readonly sink: ShipSink,
    private readonly opts: ListingOptions,
    /** This shipper's floors: one for its static share, one per slot of a group it owns (each settles its own objects). */
    private readonly scopes: FloorScopes,
    progress: { get(key: string): ShipProgress | undefined },
    private readonly log: Logger,
    private readonly metrics: ListMetrics,
  ) {
    const listsFrom = source.listsFrom === true;
    for (const key of scopes.keys) {
      const record = progress.get(key);
      this.plans.set(key, new ListingPlan(opts, record?.etag || undefined, listsFrom, record?.offset ?? 0));
    }
    this.seen = { ...(source.listStats ?? { requests: 0, objects: 0 }) };
    const plans = [...this.plans.values()];
    const floors = plans.flatMap((p) => (p.floor === undefined ? [] : [p.floor])).sort(compareKeys);
    if (floors.length > 0) this.log.info('listing from the floor kept in the progress topic', { after: floors[0], floors: floors.length });
    if (opts.until !== undefined) this.log.info('a backfill (--until): each pass lists the whole prefix, and the listing floor is left as it is');
    else if (plans.some((p) => p.isOrdered && p.startAfter() === undefined && p.floorFrom !== 0))
      this.log.info('the listing floor covers from a later time than --since asks (an earlier run had a later --since): the first pass lists the whole prefix');
  }

  /** Whether `o` is in the --since / --until range. */
  inRange(o: SourceObject): boolean {
    return inRange(this.opts, o);
  }

  /** No floor to keep: a group member that owns no slot lists nothing. */
  get idle(): boolean {
    return this.plans.size === 0;
  }

  /** Where the next pass lists from: the lowest floor (undefined: the whole prefix). */
  startAfter(): string | undefined {
    let from: string | undefined;
    for (const p of this.plans.values()) {
      const f = p.startAfter();
      if (f === undefined) return undefined;
      if (from === undefined || compareKeys(f, from) < 0) from = f;
    }
    return from;
  }

  /** The floor behind which `key` is settled (its scope's, where that lists from a floor). */
  floorOf(key: string): string | undefined {
    const scope = this.scopes.of(key);
    const plan = scope === undefined ? undefined : this.plans.get(scope);
    return plan?.isOrdered ? plan.floor : undefined;
  }

  /** At or behind its scope's floor: settled, whether or not its record is still in memory. */
  behind(o: SourceObject): boolean {
    const floor = this.floorOf(o.key);
    return floor !== undefined && compareKeys(o.key, floor) <= 0;
  }

  /** One listing, retried on transient errors. */
  async list(signal: AbortSignal, follow: boolean): Promise<{ objects: SourceObject[]; from: string | undefined }> {
    const from = this.startAfter();
    const objects = await retry(() => this.source.list(from), { signal, maxAttempts: follow ? undefined : 5 });
    this.metrics.passes.inc();
    const stats = this.source.listStats;
    if (stats) {
      this.log.debug('listed', { after: from ?? null, objects: objects.length, requests: stats.requests - this.seen.requests });
      this.metrics.requests.inc(undefined, stats.requests - this.seen.requests);
      this.metrics.objects.inc(undefined, stats.objects - this.seen.objects);
      this.seen = { ...stats };
    }
    const ordered = [...this.plans.values()].some((p) => p.isOrdered);
    if (from === undefined && objects.length > listingDefaults.warnObjects && !ordered && !this.warnedBig) {
      this.warnedBig = true;
      this.log.warn(
        `a pass lists all ${objects.length} objects under the prefix: if keys sort by time (ELB, CloudFront, S3 access logs, dated names), --listing ordered lists only what is new`,
        { source: this.source.describe() },
      );
    }
    return { objects, from };
  }

  /** After a pass: each floor moves over its settled keys (kept in the progress topic when it does). */
  async settle(listed: readonly SourceObject[], from: string | undefined, settled: (o: SourceObject) => boolean, signal: AbortSignal): Promise<void> {
    let said = false;
    for (const [key, plan] of this.plans) {
      const before = { key: plan.floor, from: plan.floorFrom };
      // Objects of other scopes are not this floor's to wait for; its own behind it are settled, records dropped or not.
      const r = plan.afterPass(
        listed,
        from,
        (o) => this.scopes.of(o.key) !== key || (before.key !== undefined && compareKeys(o.key, before.key) <= 0) || settled(o),
      );
      if (!said && r.orderedNow === true)
        this.log.info('keys sort by the time they name: each pass now lists from the last settled key on', { source: this.source.describe() });
      if (!said && r.orderedNow === false)
        this.log.warn('keys no longer sort by time: listing the whole prefix each pass', { first_out_of_order: r.outOfOrder });
      said ||= r.orderedNow !== undefined;
      if (plan.noTimeSeen && plan.isOrdered && !this.warnedNoTime) {
        this.warnedNoTime = true;
        this.log.warn('a key names no time: the listing floor cannot pass it with --lookback as a duration (give a count of keys instead)');
      }
      if (!r.floorMoved || (plan.floor === before.key && plan.floorFrom === before.from)) continue;
      const record: ShipProgress = { key, etag: plan.floor ?? '', offset: plan.floorFrom, lines: 0, done: true, updatedAt: Date.now() };
      try {
        await retry(() => this.sink.record(record), { signal, maxAttempts: 5 });
      } catch (err) {
        // Only the next start's listing is longer: the floor is kept in memory meanwhile.
        if (!signal.aborted) this.log.warn('could not record the listing floor', { floor: key, error: describeError(err) });
      }
    }
  }
}
