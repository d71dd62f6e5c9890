/**
 * The shipper's listing per pass: from the floor in an ordered bucket, the
 * whole prefix otherwise (listing.ts decides); the floor is kept in the
 * progress topic as a record of its own, so a restart lists from it too.
 */
import { describeError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { retry } from '../retry.js';
import type { ObjectSource, SourceObject } from '../source/objects.js';
import type { ShipProgress, ShipSink } from '../transport/types.js';
import { listingDefaults, ListingPlan, type ListingOptions } from './listing.js';
import type { ListMetrics } from './ship-metrics.js';

/** Key prefix of the floor records in the progress topic; no object has such a name. */
export const FLOOR = '\u0000floor:';

/** The key of one shipper's floor record: its source and its share (`scope`). */
export const floorKeyOf = (source: ObjectSource, scope: string): string => `${FLOOR}${source.describe()} ${scope}`;

export class ShipLister {
  readonly plan: ListingPlan;
  private readonly floorKey: string;
  private warnedBig = false;
  private warnedNoTime = false;
  private seen = { requests: 0, objects: 0 };

  constructor(
    private readonly source: ObjectSource,
    private readonly sink: ShipSink,
    opts: ListingOptions,
    /** This shipper's share: one floor per replica (each settles its own objects). */
    scope: string,
    progress: { get(key: string): ShipProgress | undefined },
    private readonly log: Logger,
    private readonly metrics: ListMetrics,
  ) {
    this.floorKey = floorKeyOf(source, scope);
    const stored = progress.get(this.floorKey)?.etag || undefined;
    this.plan = new ListingPlan(opts, stored, source.listsFrom === true);
    if (this.plan.floor !== undefined) this.log.info('listing from the floor kept in the progress topic', { after: this.plan.floor });
  }

  /** One listing, retried on transient errors. */
  async list(signal: AbortSignal, follow: boolean): Promise<{ objects: SourceObject[]; from: string | undefined }> {
    const from = this.plan.startAfter();
    const objects = await retry(() => this.source.list(from), { signal, maxAttempts: follow ? undefined : 5 });
    this.metrics.passes.inc();
    const stats = this.source.listStats;
    if (stats) {
      this.log.debug('listed', { after: from ?? null, objects: objects.length, requests: stats.requests - this.seen.requests });
      this.metrics.requests.inc(undefined, stats.requests - this.seen.requests);
      this.metrics.objects.inc(undefined, stats.objects - this.seen.objects);
      this.seen = { ...stats };
    }
    if (from === undefined && objects.length > listingDefaults.warnObjects && !this.plan.isOrdered && !this.warnedBig) {
      this.warnedBig = true;
      this.log.warn(
        `a pass lists all ${objects.length} objects under the prefix: if keys sort by time (ELB, CloudFront, S3 access logs, dated names), --listing ordered lists only what is new`,
        { source: this.source.describe() },
      );
    }
    return { objects, from };
  }

  /** After a pass: the floor moves over settled keys (kept in the progress topic when it does). */
  async settle(listed: readonly SourceObject[], from: string | undefined, settled: (o: SourceObject) => boolean, signal: AbortSignal): Promise<void> {
    const before = this.plan.floor;
    const r = this.plan.afterPass(listed, from, settled);
    if (r.orderedNow === true)
      this.log.info('keys sort by the time they name: each pass now lists from the last settled key on', { source: this.source.describe() });
    if (r.orderedNow === false) this.log.warn('keys no longer sort by time: listing the whole prefix each pass', { first_out_of_order: r.outOfOrder });
    if (this.plan.noTimeSeen && this.plan.isOrdered && !this.warnedNoTime) {
      this.warnedNoTime = true;
      this.log.warn('a key names no time: the listing floor cannot pass it with --lookback as a duration (give a count of keys instead)');
    }
    if (!r.floorMoved || this.plan.floor === before) return;
    const record: ShipProgress = { key: this.floorKey, etag: this.plan.floor ?? '', offset: 0, lines: 0, done: true, updatedAt: Date.now() };
    try {
      await retry(() => this.sink.record(record), { signal, maxAttempts: 5 });
    } catch (err) {
      // Only the next start's listing is longer: the floor is kept in memory meanwhile.
      if (!signal.aborted) this.log.warn('could not record the listing floor', { error: describeError(err) });
    }
  }
}
