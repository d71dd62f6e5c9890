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
import type { OutboundMessage, ShipSink, UnfinishedShip } from '../transport/types.js';
import type { ObjectReader } from './object-reader.js';
import type { ProgressIndex } from './progress-index.js';

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
    // Local files by identity (renamed since?), S3 objects by key and ETag.
    const o = d.source.appendable ? byIdentity.get(p.etag) : byKey.get(`${p.key}\n${p.etag}`);
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
    await d.sink.reship(u, messages);
    // Under its name now: a record at the old name would be taken for the file there.
    d.progress.set(o.key === p.key ? p : { ...p, key: o.key });
    lines += u.count;
  }
  d.log.info('re-sent the lines of ship calls a crash left unfinished', { calls: list.length, lines });
  return lines;
}
