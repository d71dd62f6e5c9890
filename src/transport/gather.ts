/**
 * A partition's fetches gathered into one batch. Every INSERT costs a
 * ClickHouse server a fixed amount of CPU however few its rows (about 50 ms
 * on a current server, with its merges: bench live-cost), and a current
 * server's cost per row falls as INSERTs grow (bench insert-format), so the
 * consumer hands a partition's lines on once they make a full batch, or once
 * the oldest has waited the flush interval, not once per fetch.
 *
 * Pure state: the consumer (kafka-consumer.ts) decides when to fetch, record
 * the batch's extent, hand it on and commit. A gathered batch may only end at
 * a previous owner's recorded extent (see `batchExtentMetadata`): it is kept
 * open until the extent is reached and never goes past it, so a new owner
 * cuts the same INSERT blocks as the owner it replaces.
 */
import type { LogMessage } from './types.js';

/**
 * The extent of a batch, committed as the offset's metadata before its lines
 * are written ("weblog-batch:1:<last offset>"), so that a replica taking the
 * partition over cuts the same batch, hence the same INSERT blocks with the
 * same deduplication tokens, whether it fetched more or less (new lines
 * arrived, other --max-batch-bytes or --max-batch-lines). An INSERT of a replica that died, landing
 * late on a server that hung, then collapses with its re-insert. The commit
 * also fences: a member the group dropped cannot record, so it writes nothing.
 */
const extentPrefix = 'weblog-batch:1:';

export function batchExtentMetadata(lastOffset: number): string {
  return `${extentPrefix}${lastOffset}`;
}

/** The last offset a batch extent names, or undefined (none, or another producer's metadata). */
export function parseBatchExtent(metadata: string | null | undefined): number | undefined {
  if (!metadata?.startsWith(extentPrefix)) return undefined;
  const text = metadata.slice(extentPrefix.length);
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) ? n : undefined;
}

export interface GatherLimits {
  /** A batch is full at this many lines. */
  maxLines: number;
  /** ... or at this many characters of line text (bounds the memory of long lines). */
  maxChars: number;
  /** The oldest line waits at most this long before its batch is handed on, ms. */
  maxAgeMs: number;
}

/** Characters of line text a partition gathers at most (about 32 MB of ASCII lines). */
export const gatherMaxChars = 32 * 1024 * 1024;

/** What a fetch held past a recorded extent: the next batch's start. */
export interface GatherRest {
  lines: LogMessage[];
  /** The record after the extent (the next batch's extent is recorded against it). */
  firstOffset: number;
  lastOffset: number;
}

export class PartitionGather {
  /** The lines gathered so far, in (offset, line) order. */
  messages: LogMessage[] = [];
  /** Offset of the last record gathered (transaction markers included); -1: none yet. */
  lastOffset = -1;
  highWatermark = 0;
  private chars = 0;

  /**
   * @param firstOffset offset of the first record of the batch (its extent is recorded against it)
   * @param since when its first lines arrived, epoch ms
   * @param extent the last offset a previous owner recorded for this batch, if any: the batch ends exactly there
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly firstOffset: number,
    readonly since: number,
    readonly extent: number | undefined,
  ) {}

  get lines(): number {
    return this.messages.length;
  }

  /**
   * Adds a fetch's lines (`lastOffset`: its last record, markers included).
   * Lines past the recorded extent are not taken: they are returned, with the
   * offsets they span, to begin the next batch.
   */
  add(messages: LogMessage[], lastOffset: number, highWatermark: number): GatherRest | undefined {
    this.highWatermark = Math.max(this.highWatermark, highWatermark);
    let take = messages;
    let rest: GatherRest | undefined;
    if (this.extent !== undefined && lastOffset > this.extent) {
      const cut = firstPast(messages, this.extent);
      take = messages.slice(0, cut);
      rest = { lines: messages.slice(cut), firstOffset: this.extent + 1, lastOffset };
      lastOffset = this.extent;
    }
    for (const m of take) {
      this.messages.push(m);
      this.chars += m.value.length;
    }
    this.lastOffset = Math.max(this.lastOffset, lastOffset);
    return rest;
  }

  /** The batch must be handed on now: full, at its recorded extent, or its oldest line waited long enough. */
  ready(limits: GatherLimits, now: number): boolean {
    if (this.extent !== undefined) return this.lastOffset >= this.extent;
    return this.messages.length >= limits.maxLines || this.chars >= limits.maxChars || now - this.since >= limits.maxAgeMs;
  }

  /** When the batch falls due by age, epoch ms (a recorded extent waits for its lines instead). */
  dueAt(limits: GatherLimits): number | undefined {
    return this.extent === undefined ? this.since + limits.maxAgeMs : undefined;
  }
}

/** Index of the first line whose message is past `offset` (lines are in offset order). */
function firstPast(messages: LogMessage[], offset: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((messages[mid] as LogMessage).offset <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
