/**
 * Where the shipper resumes an object, from the progress records: S3
 * objects by key and ETag; local files by identity (dev:inode, which a
 * rename keeps) and, for a file no identity knows, by content (a copy made
 * by copytruncate, or a rotated file compressed later, continues where the
 * lines it holds were left). Content is told by the FNV-1a of a file's first
 * bytes (HEAD_BYTES), recorded with its progress.
 */
import { fnv1a64, toDecimal } from '../enrich/hash.js';
import type { Logger } from '../observe/log.js';
import { retry, sleep } from '../retry.js';
import type { ObjectSource, SourceObject } from '../source/objects.js';
import type { ShipProgress, ShipSink } from '../transport/types.js';
import type { ProgressIndex } from './progress-index.js';

/** Bytes fingerprinted at the start of a local file (its content identity). */
export const HEAD_BYTES = 256;

/** The fingerprint of a file's first bytes, as its progress records it (`head`). */
export function fingerprint(bytes: Buffer): string {
  return toDecimal(fnv1a64(bytes.toString('latin1')));
}

/** Key prefix of a record kept by identity alone (see ResumeRule.park); no file has such a name. */
export const PARKED = '\u0000parked:';

/** A local .gz is read once it has not changed for this long (gzip may still be writing it). */
const GZ_SETTLE_MS = 1500;

/** A new file with the first bytes of a listed one is taken for a copy in progress this long after its last write. */
const COPY_SETTLE_MS = 60_000;

export interface ResumeOptions {
  reshipChanged?: boolean | undefined;
  retryFailed?: boolean | undefined;
  skipFailed?: boolean | undefined;
}

export class ResumeRule {
  constructor(
    private readonly source: ObjectSource,
    private readonly sink: ShipSink,
    readonly progress: ProgressIndex,
    private readonly opts: ResumeOptions,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
  ) {}

  async headOf(o: SourceObject, length: number): Promise<string | undefined> {
    if (!this.source.head || length <= 0) return undefined;
    const b = await this.source.head(o, length);
    return b.length < length ? undefined : fingerprint(b);
  }

  /** `o` starts with the bytes `p` fingerprinted (true when `p` has no fingerprint: nothing to tell them apart). */
  private async sameHead(o: SourceObject, p: ShipProgress): Promise<boolean> {
    if (p.head === undefined || !p.headLength) return true;
    return (await this.headOf(o, p.headLength)) === p.head; // a read error propagates: where to resume cannot be told
  }

  /**
   * The progress of content shipped under an identity that no longer holds
   * it (renamed away and deleted, compressed, truncated after a copy) and
   * that `o` starts with: `o` is a copy of it (copytruncate) or the same
   * lines compressed (`a.log.1` -> `a.log.1.gz`). 'wait' while the content
   * is still held by a listed file and `o` was written in the last minute:
   * a copy or a compression in progress, whose original goes away next.
   * Two files that merely start alike are both shipped once that minute is
   * over.
   */
  private async contentMatch(o: SourceObject, live: ReadonlyMap<string, SourceObject>): Promise<ShipProgress | 'wait' | undefined> {
    const young = Date.now() - o.lastModified < COPY_SETTLE_MS;
    // gzip may have written nothing yet (a busy machine starved it past the settling time).
    if (o.size === 0) return o.gzip && young ? 'wait' : undefined;
    if (!this.source.head) return undefined;
    const lengths = this.progress.headLengths();
    if (lengths.length === 0) return undefined;
    const bytes = await this.source.head(o, lengths[0] as number);
    if (o.gzip && young && bytes.length < (lengths[0] as number) && (await this.startsLiveFile(o, bytes, live))) return 'wait';
    let held = false;
    for (const length of lengths) {
      if (bytes.length < length) continue;
      const head = fingerprint(bytes.subarray(0, length));
      let best: ShipProgress | undefined;
      for (const r of this.progress.withHead(length, head)) {
        if (r.etag === o.etag) continue;
        const holder = live.get(r.etag);
        if (holder && (await this.sameHead(holder, r))) {
          held = true; // still there: a copy being made, or another file that starts alike
          continue;
        }
        if (!best || r.updatedAt > best.updatedAt) best = r;
      }
      if (best) return best;
    }
    return held && young ? 'wait' : undefined;
  }

  /**
   * `listed` without the local compressed files still being written: gzip
   * writes `a.log.1.gz` while rotating, and one read mid-write looks
   * truncated (then recorded as failed, its later lines lost). A .gz changed
   * in the last GZ_SETTLE_MS is looked at again once that time is over and
   * left for the next pass if it changed meanwhile.
   */
  async settled(listed: SourceObject[]): Promise<SourceObject[]> {
    if (!this.source.appendable) return listed;
    const now = Date.now();
    const young = listed.filter((o) => o.gzip && now - o.lastModified < GZ_SETTLE_MS && !this.progress.get(o.key)?.done);
    if (young.length === 0) return listed;
    const newest = Math.max(...young.map((o) => o.lastModified));
    await sleep(Math.max(0, newest + GZ_SETTLE_MS - now), this.signal).catch(() => undefined);
    const again = new Map((await retry(() => this.source.list(), { signal: this.signal, maxAttempts: 5 })).map((o) => [o.key, o]));
    const changing = new Set(
      young.filter((o) => {
        const n = again.get(o.key);
        return !n || n.etag !== o.etag || n.size !== o.size || n.lastModified !== o.lastModified;
      }),
    );
    for (const o of changing) this.log.info('compressed file still being written: next pass', { object: o.key });
    return listed.filter((o) => !changing.has(o));
  }

  /**
   * `bytes`, the first decompressed bytes of a compressed file being written (too few to
   * fingerprint), are the start of a listed plain file: gzip is compressing that one.
   */
  private async startsLiveFile(o: SourceObject, bytes: Buffer, live: ReadonlyMap<string, SourceObject>): Promise<boolean> {
    if (bytes.length === 0 || !this.source.head) return bytes.length === 0;
    for (const h of live.values()) {
      if (h.gzip || h.etag === o.etag || h.size < bytes.length) continue;
      const start = await this.source.head(h, bytes.length).catch(() => undefined);
      if (start?.equals(bytes)) return true;
    }
    return false;
  }

  /** Records `p` alone (no lines), durably. */
  async record(p: ShipProgress): Promise<void> {
    await retry(() => this.sink.record(p), { signal: this.signal });
    this.progress.set(p);
  }

  /**
   * Records the decisions' writes in an order that never loses a record: a
   * record taken over under a new key is written before anything overwrites
   * its old key. Rotation shifts every file one name up (a.log.1 -> a.log.2,
   * a.log -> a.log.1), so a.log.2's takeover goes first; a kill -9 between
   * two writes leaves every identity findable.
   */
  async apply(decisions: readonly Decision[]): Promise<void> {
    type Write = Decision & { write: ShipProgress };
    if (this.source.appendable) await this.park(decisions);
    const writes = decisions.filter((d): d is Write => d.write !== undefined);
    const done = new Set<Write>();
    const visiting = new Set<Write>();
    const visit = async (d: Write): Promise<void> => {
      if (done.has(d) || visiting.has(d)) return; // a cycle (two files swapped names): either order
      visiting.add(d);
      // Whoever takes over the record at this key must be written first.
      for (const other of writes) if (other !== d && other.takesFrom === d.write.key) await visit(other);
      visiting.delete(d);
      done.add(d);
      await this.record(d.write);
      d.note?.();
    };
    for (const d of writes) await visit(d);
  }

  /**
   * Local files only. Before anything is written under a name whose record
   * holds another file (a new a.log after a rename, a renamed file taking a
   * shifted name), that record is kept under its identity alone (PARKED +
   * dev:inode) unless a decision of this pass takes it over: the file it
   * belongs to may have been missed by this listing (renamed between the
   * folder read and its stat), and overwriting the record lost it, so the
   * file was shipped again from byte 0 when it was seen under its new name.
   */
  private async park(decisions: readonly Decision[]): Promise<void> {
    const taken = new Set(decisions.map((d) => d.takesFrom).filter((k): k is string => k !== undefined));
    for (const d of decisions) {
      if (d.from === undefined && d.write === undefined) continue;
      const key = d.object.key;
      const old = this.progress.get(key);
      // Another file under the name, or the same file rewritten in place (copytruncate: a copy of the old
      // content may come later, and must find where it was left).
      const rewritten = old?.etag === d.object.etag && d.from === 0 && old.offset > 0;
      if (!old || (old.etag === d.object.etag && !rewritten) || taken.has(key)) continue;
      const parked = `${PARKED}${old.etag}:${old.head ?? ''}`;
      if (this.progress.get(parked)?.updatedAt === old.updatedAt) continue;
      await this.record({ ...old, key: parked });
    }
  }

  /** Where to start in `o` (undefined: skip it), and what to record first; nothing is written here (see apply). */
  async decide(o: SourceObject, live: ReadonlyMap<string, SourceObject>): Promise<Decision> {
    let p: ShipProgress | undefined;
    let takesFrom: string | undefined;
    let note: (() => void) | undefined;
    let viaContent = false;
    if (!this.source.appendable) {
      p = this.progress.get(o.key);
      if (!p) return { object: o, from: 0 };
      if (p.etag !== o.etag) return { object: o, from: this.opts.reshipChanged === false ? undefined : 0 };
    } else {
      // A local file is known by its identity (dev:inode), which a rename keeps; an identity
      // whose first bytes changed was rewritten in place (or its inode reused): new content.
      p = this.progress.ofEtag(o.etag);
      if (p && !(await this.sameHead(o, p))) p = undefined;
      if (!p) {
        const found = await this.contentMatch(o, live);
        if (found === 'wait') {
          this.log.info('a copy of a file still being shipped (rotation in progress?): waiting for the original to go', { object: o.key });
          return { object: o, from: undefined };
        }
        p = found;
        viaContent = found !== undefined;
      }
      if (!p) return { object: o, from: 0 };
      if (p.key !== o.key || p.etag !== o.etag) {
        const was = p;
        takesFrom = p.key === o.key ? undefined : p.key;
        p = { ...p, key: o.key, etag: o.etag, updatedAt: Date.now() };
        const now = p;
        note = () => this.log.info('rotated file: continuing where it was left', { object: o.key, was: was.key, offset: now.offset, lines: now.lines });
      }
    }
    const moved = note !== undefined;
    const out = (from: number | undefined, write?: ShipProgress, extra?: () => void): Decision => {
      const w = write ?? (moved ? p : undefined);
      const first = note;
      return {
        object: o,
        from,
        ...(w ? { write: w } : {}),
        ...(takesFrom !== undefined ? { takesFrom } : {}),
        note: () => {
          first?.();
          extra?.();
        },
      };
    };
    if (p.failed) {
      // Fixed: replaced by a file with the same first lines (a whole copy of a truncated gzip), or
      // rewritten in place to another size. It goes on from where it failed; the lines before are stored.
      if (viaContent || (p.size !== undefined && p.size !== o.size)) {
        const failed = p;
        return out(p.offset, { ...p, failed: undefined, updatedAt: Date.now() }, () =>
          this.log.info('a failed object changed: reading it again from where it failed', { object: o.key, offset: failed.offset, was: failed.failed }),
        );
      }
      if (this.opts.retryFailed) return out(p.offset);
      if (this.opts.skipFailed) {
        const failed = p;
        return out(undefined, { ...p, failed: undefined, skipped: p.failed, done: true, updatedAt: Date.now() }, () =>
          this.log.warn('failed object skipped (--skip-failed)', { object: o.key, offset: failed.offset, reason: failed.failed }),
        );
      }
      return out(undefined);
    }
    if (p.done) return out(undefined);
    if (this.source.appendable && !o.gzip) {
      if (o.size > p.offset) return out(p.offset);
      if (o.size < p.offset) {
        // Shorter than what was shipped, with the same first bytes: cut short (truncated to a
        // smaller size, possibly mid-read). Its bytes were shipped; what it grows by is new.
        const was = p.offset;
        return out(undefined, { ...p, offset: o.size, updatedAt: Date.now() }, () =>
          this.log.warn('file shrank: its remaining bytes were shipped; new bytes ship from its new end', { object: o.key, was, size: o.size }),
        );
      }
      return out(undefined);
    }
    return out(p.offset);
  }
}

/** What the shipper does with one listed object. */
export interface Decision {
  object: SourceObject;
  /** Byte offset to ship from; undefined: nothing to ship now. */
  from: number | undefined;
  /** A progress record to store before shipping starts (a takeover after rotation, a shrink, a skip). */
  write?: ShipProgress;
  /** The key whose record `write` was taken from, when another. */
  takesFrom?: string;
  /** Logs what was decided, once written. */
  note?: () => void;
}
