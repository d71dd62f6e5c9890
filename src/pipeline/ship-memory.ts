/**
 * What a shipper keeps in memory of its progress, and how that stays
 * bounded: listing from floors, it reads and keeps only the records a
 * listing from them can meet (progress-index.ts), and drops those its floors
 * pass; reading notifications, it forgets settled records older than the
 * window and reads them back when an object is named again (recall.ts).
 */
import type { ObjectSource, SourceObject } from '../source/objects.js';
import type { Logger } from '../observe/log.js';
import type { ShipSink } from '../transport/types.js';
import { listingDefaults } from './listing.js';
import { FLOOR_PREFIX, ProgressIndex, readProgress, type FloorScopes } from './progress-index.js';
import { readRecent, Recall, recallMissing } from './recall.js';
import type { ShipOptions } from './ship-options.js';

export class ShipMemory {
  progress = new ProgressIndex();
  /** Records behind a listing floor were left out: a whole listing reads them all first. */
  partial = false;
  /** With notifications: which settled records are forgotten, and which must be read back. */
  private readonly recall: Recall | undefined;
  /** Whether the listing may go from floors (S3, not forced whole, no notifications). */
  private readonly floors: boolean;

  constructor(
    private readonly source: ObjectSource,
    private readonly sink: ShipSink,
    opts: ShipOptions,
    notified: boolean,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
  ) {
    const { listing, retryFailed, skipFailed } = opts;
    this.recall = notified ? new Recall(listing?.lookback) : undefined;
    this.floors =
      source.listsFrom === true &&
      (listing?.mode ?? listingDefaults.mode) !== 'full' &&
      listing?.until === undefined &&
      !notified &&
      !retryFailed &&
      !skipFailed;
  }

  /** Reads the progress: from `scopes`' floors where the listing may go from floors; `whole`: every record. */
  async load(scopes: FloorScopes, whole = false): Promise<void> {
    if (this.recall && !whole) {
      this.progress = await readRecent(this.sink, this.recall, this.signal);
      return;
    }
    const read = await readProgress(this.sink, !whole && this.floors ? scopes : undefined, this.signal);
    this.progress = read.progress;
    this.partial = read.filtered;
  }

  /** Reads back the records of `objects` that may have been forgotten (notifications). */
  async recallFor(objects: readonly SourceObject[]): Promise<void> {
    const n = this.recall ? await recallMissing(this.sink, this.recall, this.progress, objects, this.signal) : 0;
    if (n > 0) this.log.info('progress read back from the topic for objects named again', { objects: n });
  }

  /**
   * Drops what the floors passed (`floorOf`: a key's floor) and, with notifications, forgets what can be read back.
   * Objects of other shippers (`owns` false: another slot or replica) are dropped too, floors excepted: a whole
   * read (a reconciling or first listing) reads every record, and a slot assigned later is read again
   * (Owner.sync). Local files keep theirs: a rotation may rename a file into another shipper's share.
   */
  trim(floorOf: (key: string) => string | undefined, owns: (key: string) => boolean): void {
    if (!this.source.appendable) this.progress.dropWhere((p) => !p.key.startsWith(FLOOR_PREFIX) && !owns(p.key));
    if (this.recall) this.recall.forget(this.progress);
    else if (this.progress.dropSettled(floorOf) > 0) this.partial = true;
  }
}
