/**
 * The shipper: lists source objects, streams each one (never whole in
 * memory), and ships its lines in batches of messages, each message a bundle
 * of consecutive lines as the object's own bytes (or one line, with
 * --lines-per-message 1). Each batch and the object's progress go out
 * together (ShipSink), so a restarted shipper resumes at the next line: each
 * line lands exactly once. With --follow it keeps polling for new objects
 * and, for local files, appended lines (like tail -F).
 */
import { describeError, WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Registry } from '../observe/metrics.js';
import { retry, sleep } from '../retry.js';
import { itemSize } from '../source/bundles.js';
import { readError } from '../source/errors.js';
import { ObjectMovedError, type ObjectSource, type SourceObject } from '../source/objects.js';
import { SlotLostError, type OutboundMessage, type ShipOwnership, type ShipProgress, type ShipSink } from '../transport/types.js';
import { ObjectReader } from './object-reader.js';
import { floorKeyOf, ShipLister } from './lister.js';
import { PollBackoff } from './listing.js';
import { shipDefaults, type ShipOptions } from './ship-options.js';
import { listMetrics, notifyMetrics, shipMetrics, type ShipMetrics } from './ship-metrics.js';
import { NotifiedShipping } from './notified.js';
import { ShipMemory } from './ship-memory.js';
import type { NotificationQueue } from '../source/sqs.js';
import { Owner } from './owner.js';
import { replayUnfinished } from './replay.js';
import { HEAD_BYTES, ResumeRule, type Decision } from './resume.js';

export { shipDefaults, type ShipOptions };

/** An object that could not be read, with why. */
export interface FailedObject {
  key: string;
  reason: string;
}

export class Shipper {
  private readonly memory: ShipMemory;
  private resume: ResumeRule;
  private readonly reader: ObjectReader;
  /** Failed objects among the last listing. */
  private failedNow: FailedObject[] = [];
  private readonly warnedSkipped = new Set<string>();
  readonly metrics: ShipMetrics;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private warnedEmpty = false;
  private lister: ShipLister;
  private readonly owner: Owner;
  private readonly listMetrics: ReturnType<typeof listMetrics>;
  /** The key of a listing floor's record, by its scope (a static share or a group slot). */
  private readonly floorKey: (scope: string) => string;

  constructor(
    private readonly source: ObjectSource,
    private readonly sink: ShipSink,
    private readonly opts: ShipOptions,
    private readonly log: Logger,
    private readonly registry: Registry,
    /** queue: S3 event notifications name the objects (not listed); ownership: a shipper group shares them. */
    private readonly extra: { queue?: NotificationQueue | undefined; ownership?: ShipOwnership | undefined } = {},
  ) {
    this.owner = new Owner(opts.replicas ?? shipDefaults.replicas, opts.replicaIndex ?? shipDefaults.replicaIndex, extra.ownership);
    this.metrics = shipMetrics(registry);
    this.listMetrics = listMetrics(registry);
    this.floorKey = (scope) => floorKeyOf(source, scope);
    this.memory = new ShipMemory(source, sink, opts, extra.queue !== undefined, log, this.abort.signal);
    this.resume = this.resumeRule();
    this.lister = this.newLister();
    this.reader = new ObjectReader(
      source,
      {
        key: opts.key,
        linesPerMessage: opts.linesPerMessage ?? shipDefaults.linesPerMessage,
        messageBytes: opts.messageBytes ?? shipDefaults.messageBytes,
        maxLineBytes: opts.maxLineBytes ?? shipDefaults.maxLineBytes,
        follow: opts.follow === true,
      },
      log,
      () => this.metrics.tooLong.inc(),
    );
  }

  private newLister(): ShipLister {
    const listing = { ...this.opts.listing, fullFirst: this.opts.retryFailed === true || this.opts.skipFailed === true };
    return new ShipLister(this.source, this.sink, listing, this.owner.floorScopes(this.floorKey), this.memory.progress, this.log, this.listMetrics);
  }

  /** The progress records (ship-memory.ts; `whole`: every one), and the resume rule over them. */
  private async loadProgress(whole = false): Promise<void> {
    await this.memory.load(this.owner.floorScopes(this.floorKey), whole);
    this.resume = this.resumeRule();
  }

  /** Reads the progress for this shipper's share (after a start or a new group assignment) and lists from its floors. */
  private async reload(): Promise<void> {
    await this.loadProgress();
    this.lister = this.newLister();
    this.dropBehindFloor();
  }

  private resumeRule(): ResumeRule {
    return new ResumeRule(this.source, this.sink, this.memory.progress, this.opts, this.log, this.abort.signal);
  }

  /** Runs until done (or, with follow, until stop()). */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Finishes the batch in flight and returns; idempotent. */
  async stop(): Promise<void> {
    this.abort.abort(new WeblogError('ABORTED', 'shipper stopping'));
    await this.running?.catch(() => undefined);
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async loop(): Promise<void> {
    if (this.extra.ownership) await this.owner.sync(this.abort.signal, () => this.reload());
    else await this.reload();
    this.log.info('progress loaded', { objects: this.memory.progress.size, source: this.source.describe(), from_floor: this.lister.startAfter() ?? null });
    await replayUnfinished({
      source: this.source,
      sink: this.sink,
      reader: this.reader,
      progress: this.memory.progress,
      log: this.log,
      signal: this.abort.signal,
    });
    if (this.extra.queue) return this.notified(this.extra.queue);
    const base = this.opts.pollIntervalMs ?? shipDefaults.pollIntervalMs;
    const poll = new PollBackoff(base, this.opts.pollMaxMs ?? (this.source.appendable ? base : shipDefaults.pollMaxMs));
    do {
      await this.owner.sync(this.abort.signal, () => this.reload());
      const foundNew = await this.pass();
      if (!this.opts.follow || this.stopped) break;
      await this.owner.pause(poll.next(foundNew), this.abort.signal);
    } while (!this.stopped);
  }

  /** One listing: ships what is new or grown; true when there was something. */
  async pass(): Promise<boolean> {
    if (this.lister.idle) return false;
    let objects: SourceObject[];
    let from: string | undefined;
    try {
      ({ objects, from } = await this.lister.list(this.abort.signal, this.opts.follow === true));
      if (from === undefined && this.memory.partial) {
        await this.loadProgress(true);
      }
    } catch (err) {
      if (this.stopped) return false;
      throw err;
    }
    if (objects.length === 0 && from === undefined) {
      // A typo in the prefix or glob looks like "nothing to do": say it, once until objects appear.
      if (!this.warnedEmpty) this.log.warn('no objects match the source (check the prefix or glob)', { source: this.source.describe() });
      this.warnedEmpty = true;
    } else if (objects.length > 0) this.warnedEmpty = false;
    for (const e of this.source.skipped ?? []) {
      if (this.warnedSkipped.has(e.key)) continue;
      this.warnedSkipped.add(e.key);
      this.log.warn('not shipped', { entry: e.key, why: e.why });
    }
    // From a floor, a group member also lists the keys behind its other slots' floors: settled, their records dropped.
    const isMine = (o: SourceObject) => this.owner.owns(o.key) && this.lister.inRange(o) && !(from !== undefined && this.lister.behind(o));
    await this.memory.recallFor(objects.filter(isMine));
    const mine = await this.resume.settled(objects.filter(isMine));
    const shipped = await this.shipAll(mine, new Map(objects.map((o) => [o.etag, o])));
    if (shipped === undefined) return false;
    this.noteFailed(mine);
    if (!this.stopped && !this.owner.stale) await this.lister.settle(objects, from, (o) => !isMine(o) || this.settled(o), this.abort.signal);
    this.dropBehindFloor();
    return shipped > 0;
  }

  /** Decides where each object resumes, records what must come first, ships them in order; how many had lines to ship (undefined: stopped). */
  private async shipAll(mine: readonly SourceObject[], live: ReadonlyMap<string, SourceObject>): Promise<number | undefined> {
    const decisions: Decision[] = [];
    for (const o of mine) {
      try {
        decisions.push(await this.resume.decide(o, live));
      } catch (err) {
        // Where to resume could not be checked (a file gone or unreadable between listing and now):
        // shipping it from the start could send lines twice, so it waits for the next pass.
        this.log.warn('cannot tell how far this object was shipped; skipped this pass', { object: o.key, error: describeError(readError(o.key, err)) });
      }
    }
    try {
      await this.resume.apply(decisions);
    } catch (err) {
      if (this.stopped) return undefined;
      throw err;
    }
    const todo = decisions.filter((d) => d.from !== undefined).map((d) => ({ o: d.object, from: d.from as number }));
    this.metrics.pending.set(todo.length);
    for (const t of todo) {
      if (this.stopped || this.owner.stale) return todo.length;
      await this.shipObject(t.o, t.from);
      this.metrics.pending.set(Math.max(0, todo.length - this.metrics.objects.total()));
    }
    return todo.length;
  }

  /** Objects named by event notifications, until stopped (notified.ts). */
  private async notified(queue: NotificationQueue): Promise<void> {
    await new NotifiedShipping(
      {
        queue,
        source: this.source,
        mine: (o) => (!this.owner.owns(o.key) ? { ok: false, otherReplica: true } : this.lister.inRange(o) ? { ok: true } : { ok: false, otherReplica: false }),
        ship: async (objects) => {
          this.dropBehindFloor(); // first: what is read back next stays until these are settled
          await this.memory.recallFor(objects);
          await this.shipAll(objects, new Map(objects.map((o) => [o.etag, o])));
          this.noteFailed(objects);
        },
        settled: (o) => this.settled(o) || (this.memory.progress.get(o.key)?.etag === o.etag && this.memory.progress.get(o.key)?.failed !== undefined),
        pass: () => this.pass(),
        sync: () => this.owner.sync(this.abort.signal, () => this.reload()),
        log: this.log,
        metrics: notifyMetrics(this.registry),
        signal: this.abort.signal,
      },
      this.opts.notify,
    ).run();
  }

  /** Shipped to the end or skipped: a listing need not see it again (a failed one stays listed, and reported). */
  private settled(o: SourceObject): boolean {
    const p = this.memory.progress.get(o.key);
    return p !== undefined && p.etag === o.etag && p.failed === undefined && (p.done || p.skipped !== undefined);
  }

  private dropBehindFloor(): void {
    this.memory.trim(
      (key) => this.lister.floorOf(key),
      (key) => this.owner.stale || this.owner.owns(key), // while slots move, nothing is whose: keep all until the reload
    );
  }

  /** Objects of the last pass that could not be read (still listed, same content), with why. */
  failedObjects(): readonly FailedObject[] {
    return this.failedNow;
  }

  private noteFailed(listed: readonly SourceObject[]): void {
    this.failedNow = [];
    for (const o of listed) {
      const p = this.memory.progress.get(o.key);
      if (p?.failed && p.etag === o.etag) this.failedNow.push({ key: o.key, reason: p.failed });
    }
    this.metrics.failed.set(this.failedNow.length);
  }

  private async shipObject(o: SourceObject, from: number): Promise<void> {
    const prior = this.memory.progress.get(o.key);
    // Rewritten in place since it was looked at (copytruncate, then new lines): reading on at the old
    // offset would send the new content's middle; the next pass decides again.
    if (this.source.appendable && from > 0 && prior?.etag === o.etag && prior.head !== undefined && prior.headLength) {
      const now = await this.resume.headOf(o, prior.headLength).catch(() => undefined);
      if (now !== prior.head) {
        this.log.info('rewritten since it was listed: next pass', { object: o.key });
        return;
      }
    }
    let lines = prior && prior.etag === o.etag && from > 0 ? prior.lines : 0;
    let offset = from;
    const maxLines = this.opts.batchLines ?? shipDefaults.batchLines;
    const maxBytes = this.opts.batchBytes ?? shipDefaults.batchBytes;
    let batch: OutboundMessage[] = [];
    let batchLinesN = 0;
    let batchBytes = 0;
    let batchEnd = offset;
    let head: string | undefined = prior && prior.etag === o.etag && from > 0 ? prior.head : undefined;
    let headLength = head !== undefined ? (prior?.headLength ?? 0) : 0;
    let sinkFailure: unknown;
    const flush = async (done: boolean) => {
      if (batch.length === 0 && !done) return;
      // Local files are fingerprinted by their first bytes (compressed ones by their content).
      if (this.source.appendable && headLength < Math.min(HEAD_BYTES, batchEnd)) {
        headLength = Math.min(HEAD_BYTES, batchEnd);
        head = await this.resume.headOf(o, headLength).catch(() => undefined);
        if (head === undefined) headLength = 0;
      }
      const progress: ShipProgress = {
        key: o.key,
        etag: o.etag,
        offset: batchEnd,
        lines: lines + batchLinesN,
        done,
        updatedAt: Date.now(),
        ...(head ? { head, headLength } : {}),
      };
      const messages = batch;
      try {
        const start = offset;
        await retry(() => (this.owner.stale ? Promise.reject(new SlotLostError(o.key)) : this.sink.ship(this.opts.topic, messages, progress, start)), {
          signal: this.abort.signal,
          onRetry: (err, attempt) => this.log.warn('ship: retrying', { attempt, error: describeError(err) }),
        });
      } catch (err) {
        sinkFailure = err;
        throw err;
      }
      this.memory.progress.set(progress);
      this.metrics.lines.inc(undefined, batchLinesN);
      this.metrics.bytes.inc(undefined, batchBytes);
      lines += batchLinesN;
      offset = batchEnd;
      batch = [];
      batchLinesN = 0;
      batchBytes = 0;
    };
    // Transient trouble mid-object (a reset connection, a 5xx) re-opens it at the last
    // line shipped, a few times, before the object is left for the next pass.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.reader.stream(
          o,
          offset,
          (item) => {
            batch.push(this.reader.messageOf(o, item));
            const size = itemSize(item);
            batchLinesN += item.tooLong ? 1 : item.lines;
            batchBytes += size;
            // Trailing gzip bytes are placed by their compressed offset, outside the line offsets; they
            // come last and ship with the object's final progress, so a restart cannot send them twice.
            if (item.tooLong && item.reason) return undefined;
            batchEnd = item.offset + size;
            return batchLinesN >= maxLines || batchBytes >= maxBytes ? flush(false) : undefined;
          },
          () => this.stopped,
        );
        if (this.stopped) return;
        await flush(!this.reader.growing(o));
        this.metrics.objects.inc();
        this.log.info('shipped', { object: o.key, from, to: offset, lines });
        return;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof ObjectMovedError) {
          this.log.info('object renamed since the listing: next pass', { object: o.key });
          return;
        }
        if (err instanceof SlotLostError || !this.owner.owns(o.key)) {
          this.log.info('object moved to another shipper of the group: it resumes there', { object: o.key, offset });
          return;
        }
        if (!(err instanceof WeblogError && err.retriable) || attempt >= 5) {
          // The lines read before an unreadable part (a truncated or corrupt gzip) are kept.
          if (err !== sinkFailure && !(err instanceof WeblogError && err.retriable)) await flush(false).catch(() => undefined);
          await this.giveUp(o, err, offset, lines);
          return;
        }
        this.log.warn('object: retrying after a transient error', { object: o.key, offset, attempt, error: describeError(err) });
        batch = [];
        batchLinesN = 0;
        batchBytes = 0;
        batchEnd = offset;
        await sleep(200 * 2 ** attempt, this.abort.signal).catch(() => undefined);
      }
    }
  }

  private async giveUp(o: SourceObject, err: unknown, offset: number, lines: number): Promise<void> {
    this.metrics.failures.inc();
    if (err instanceof WeblogError && err.retriable) {
      // Server trouble, not the object's fault: leave it for the next pass.
      this.log.warn('object postponed', { object: o.key, offset, error: describeError(err) });
      return;
    }
    // Unreadable object: record why, carry on with the others.
    const reason = describeError(err);
    this.log.error('object failed', { object: o.key, offset, error: reason });
    const prior = this.memory.progress.get(o.key);
    const progress: ShipProgress = {
      key: o.key,
      etag: o.etag,
      offset,
      lines,
      done: false,
      failed: reason,
      size: o.size,
      updatedAt: Date.now(),
      ...(prior?.etag === o.etag && prior.head !== undefined ? { head: prior.head, headLength: prior.headLength } : {}),
    };
    await this.resume.record(progress).catch(() => undefined);
  }
}
