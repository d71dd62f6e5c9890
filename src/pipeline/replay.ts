/**
 * The in-process queue gives a line its position when it is shipped. After
 * a crash the ship calls whose lines were not all committed are sent again
 * first, with the same lines in the same order, so each line gets the
 * position it had, whatever was listed, renamed or rotated since, and the
 * processor skips what ClickHouse already holds. (Shipped again in a new
 * order, a rotated file's lines took positions that other lines had stored:
 * some were skipped as stored, others stored twice.)
 */
import type { Logger } from '../observe/log.js';
import { retry } from '../retry.js';
import type { ObjectSource, SourceObject } from '../source/objects.js';
import type { OutboundMessage, ShipProgress, ShipSink, UnfinishedShip } from '../transport/types.js';
import type { ObjectReader } from './object-reader.js';
import type { ProgressIndex } from './progress-index.js';
import { fingerprint } from './resume.js';

export interface ReplayDeps {
  source: ObjectSource;
  sink: ShipSink;
  reader: ObjectReader;
  progress: ProgressIndex;
  log: Logger;
  signal: AbortSignal;
}

/** The messages of ship call `u` read again from `o`, or undefined when `o` no longer holds the same lines. */
async function readAgain(d: ReplayDeps, o: SourceObject, u: UnfinishedShip): Promise<OutboundMessage[] | undefined> {
  const out: OutboundMessage[] = [];
  let count = 0;
  // A compressed file's last call carried the bytes after its gzip data too: read it to its end then.
  const end = o.gzip && u.progress.done ? undefined : u.progress.offset;
  await d.reader.stream(
    o,
    u.from,
    (item) => {
      out.push(d.reader.messageOf(o, item));
      count += item.tooLong ? 1 : item.lines;
      return undefined;
    },
    () => d.signal.aborted,
    end,
  );
  return count === u.count ? out : undefined;
}

/** `o` starts with the bytes `p` fingerprinted (true when `p` has none: nothing to tell them apart). */
async function startsLike(d: ReplayDeps, o: SourceObject, p: ShipProgress): Promise<boolean> {
  if (!d.source.head || p.head === undefined || !p.headLength) return true;
  const b: Buffer | undefined = await d.source.head(o, p.headLength).catch(() => undefined);
  return b !== undefined && b.length === p.headLength && fingerprint(b) === p.head;
}

/** A listed file that starts with the bytes `p` fingerprinted (the same lines under a new identity), if one does. */
async function byContent(d: ReplayDeps, objects: readonly SourceObject[], p: ShipProgress): Promise<SourceObject | undefined> {
  if (p.head === undefined || !p.headLength) return undefined;
  for (const o of objects) if (o.etag !== p.etag && (await startsLike(d, o, p))) return o;
  return undefined;
}

/** Sends the sink's unfinished ship calls again, in order; returns how many lines. */
export async function replayUnfinished(d: ReplayDeps): Promise<number> {
  const list = d.sink.unfinished?.() ?? [];
  if (list.length === 0 || !d.sink.reship) return 0;
  const objects = await retry(() => d.source.list(), { signal: d.signal, maxAttempts: 5 });
  const byKey = new Map(objects.map((o) => [`${o.key}\n${o.etag}`, o]));
  const byIdentity = new Map(objects.map((o) => [o.etag, o]));
  let lines = 0;
  for (const u of list) {
    if (d.signal.aborted) break;
    const p = u.progress;
    if (u.count === 0) {
      await d.sink.reship(u, []);
      d.progress.set(p);
      continue;
    }
    // Local files by identity (renamed since?) or by content (compressed since: a.log.1 -> a.log.2.gz),
    // S3 objects by key and ETag.
    // An identity is checked by content too: a deleted file's inode is reused by the next new file (seen: a
    // rotated a.log.1 compressed away, its inode given to the new a.log, whose bytes were re-sent in its place).
    const same = byIdentity.get(p.etag);
    const o = d.source.appendable
      ? ((same && (await startsLike(d, same, p)) ? same : undefined) ?? (await byContent(d, objects, p)))
      : byKey.get(`${p.key}\n${p.etag}`);
    const messages = o ? await readAgain(d, o, u).catch(() => undefined) : undefined;
    if (!o || !messages) {
      d.log.warn('lines shipped before a crash cannot be read again (the file is gone or changed); those not stored are lost', {
        object: p.key,
        from: u.from,
        to: p.offset,
        lines: u.count,
      });
      d.sink.abandon?.(u);
      continue;
    }
    d.log.debug('re-sending a ship call', { object: o.key, shipped_as: p.key, first: u.first, lines: u.count, from: u.from, to: p.offset });
    await d.sink.reship(u, messages);
    // Under the name it was shipped as, as the sink records it: the next pass finds it by identity and
    // takes it over under its new name. (Set under the new name, it replaced the record of the file that
    // name held before, which was then shipped again from byte 0.)
    d.progress.set(p);
    lines += u.count;
  }
  d.log.info('re-sent the lines of ship calls a crash left unfinished', { calls: list.length, lines });
  return lines;
}
