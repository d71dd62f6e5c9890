/**
 * The in-process transport of `weblog run` without Kafka: a bounded queue
 * with the semantics the processor relies on (one partition, offsets in
 * order, batches, commit after the handler) and a ShipSink whose progress is
 * saved to a file once the processor has committed the lines.
 *
 * Offsets continue across runs (saved with the progress), so after a crash
 * the re-shipped lines get the same offsets and the processor skips those
 * ClickHouse already holds, as it does with Kafka.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { WeblogError } from '../errors.js';
import { pushMessageLines } from './message-lines.js';
import {
  headerNames,
  shipperRejectReason,
  type BatchHandler,
  type LogConsumer,
  type LogMessage,
  type LogProducer,
  type OutboundMessage,
  type ShipProgress,
  type ShipSink,
  type UnfinishedShip,
  type Transport,
} from './types.js';

interface Entry {
  msg: LogMessage;
  /** The last line of one push (one ship call): the state may advance past it. */
  endsPush: boolean;
  /** Called once this line is committed. */
  onCommit?: (() => void) | undefined;
}

export interface MemoryOptions {
  /** Topic name written to the rows' kafka_topic (default weblog.run). */
  topic?: string;
  /** Capacity in lines; producers wait when full (default 120,000). */
  capacity?: number;
  /** Largest batch handed to the processor, in lines (default 50,000: one INSERT of the processor; chdb spends about 2.5 µs more per row on INSERTs of 20,000). */
  maxBatch?: number;
  /** Longest wait for a fuller batch, ms (default 200). */
  flushIntervalMs?: number;
  /** JSON file for the ship progress and the next offset. */
  stateFile: string;
}

interface SavedState {
  nextOffset: number;
  progress: Record<string, ShipProgress>;
  /** Ship calls not yet wholly committed, in order (replayed after a crash; see ShipSink.unfinished). */
  unfinished?: UnfinishedShip[];
  /** Positions below this were given out (abandoned ship calls): new lines start at or after it. */
  floor?: number;
}

function readState(file: string): SavedState {
  let state: Partial<SavedState>;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as Partial<SavedState>;
  } catch (err) {
    throw new WeblogError('STATE_INVALID', `the run state ${file} cannot be read (${(err as Error).message}); restore it, or start over with --reset`, {
      cause: err,
    });
  }
  if (
    typeof state.nextOffset !== 'number' ||
    !Number.isSafeInteger(state.nextOffset) ||
    state.nextOffset < 0 ||
    typeof state.progress !== 'object' ||
    state.progress === null
  ) {
    throw new WeblogError('STATE_INVALID', `the run state ${file} is not one weblog wrote; restore it, or start over with --reset`);
  }
  return state as SavedState;
}

export class MemoryTransport implements Transport {
  readonly topic: string;
  /** The state file existed and was read (false: a first run, or the file was lost). */
  readonly stateLoaded: boolean;
  private readonly entries: Entry[] = [];
  private nextOffset: number;
  private readonly state: SavedState;
  private ended = false;
  private wakeConsumer: (() => void) | undefined;
  private readonly spaceWaiters: (() => void)[] = [];

  constructor(private readonly opts: MemoryOptions) {
    this.topic = opts.topic ?? 'weblog.run';
    this.stateLoaded = existsSync(opts.stateFile);
    this.state = this.stateLoaded ? readState(opts.stateFile) : { nextOffset: 0, progress: {} };
    this.replays = this.state.unfinished ?? [];
    this.state.unfinished = [];
    this.nextOffset = this.state.nextOffset;
  }

  private readonly replays: UnfinishedShip[];

  get stateFile(): string {
    return this.opts.stateFile;
  }

  /** Offset of the next line of a push: all lines before it were committed in earlier runs or this one. */
  get committedOffset(): number {
    return this.state.nextOffset;
  }

  /**
   * Writes the state file now. A first run does so before it stores
   * anything: killed before its first commit, it must not leave rows behind
   * with no state file, which looks like a lost one (STATE_INVALID).
   */
  persist(): void {
    this.save();
  }

  private save(): void {
    const tmp = `${this.opts.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state));
    renameSync(tmp, this.opts.stateFile); // atomic replace
  }

  /**
   * Enqueues the lines of `messages` (each one line or a bundle), waiting
   * while the queue is full. Every line gets its own offset.
   */
  async push(messages: OutboundMessage[], onCommit?: () => void, journal?: { from: number; progress: ShipProgress; at?: number }): Promise<void> {
    if (this.ended) throw new WeblogError('ABORTED', 'the in-process queue is closed');
    const now = Date.now();
    const lines: LogMessage[] = [];
    for (const m of messages) {
      const h = m.headers ?? {};
      const offset = Number(h[headerNames.sourceOffset] ?? -1);
      pushMessageLines(
        typeof m.value === 'string' ? Buffer.from(m.value) : m.value,
        {
          offset: 0,
          source: h[headerNames.source] ?? '',
          sourceOffset: Number.isSafeInteger(offset) ? offset : -1,
          timestamp: now,
          rejectReason: shipperRejectReason(h[headerNames.reject]),
        },
        lines,
      );
    }
    const cap = this.opts.capacity ?? 120_000;
    while (this.entries.length + lines.length > cap && this.entries.length > 0) {
      await new Promise<void>((r) => this.spaceWaiters.push(r));
      if (this.ended) throw new WeblogError('ABORTED', 'the in-process queue is closed');
    }
    // Positions below the floor went to abandoned ship calls of a crashed run (see abandon).
    if (journal?.at === undefined) this.nextOffset = Math.max(this.nextOffset, this.state.floor ?? 0);
    if (journal) {
      // A replayed ship call gets the positions it had; its journal entry is written before its lines are queued.
      if (journal.at !== undefined) this.nextOffset = journal.at;
      (this.state.unfinished ??= []).push({ first: this.nextOffset, count: lines.length, from: journal.from, progress: journal.progress });
      this.save();
    }
    lines.forEach((msg, i) => {
      msg.offset = this.nextOffset++;
      msg.line = 0;
      const last = i === lines.length - 1;
      this.entries.push({ msg, endsPush: last, onCommit: last ? onCommit : undefined });
    });
    if (lines.length === 0 && onCommit) {
      // A record without lines (e.g. "object done") counts once everything before it is committed.
      const last = this.entries[this.entries.length - 1];
      if (last) {
        const prev = last.onCommit;
        last.onCommit = () => {
          prev?.();
          onCommit();
        };
      } else {
        onCommit();
        this.save();
      }
    }
    this.wakeConsumer?.();
  }

  /** No more messages will come: the consumer stops once the queue is drained. */
  end(): void {
    this.ended = true;
    this.wakeConsumer?.();
    for (const w of this.spaceWaiters.splice(0)) w(); // a producer waiting for space sees the end
  }

  private commit(count: number): void {
    const done = this.entries.splice(0, count);
    // The state moves only past whole pushes: after a crash, the lines of a push the
    // batch cut in two are shipped again from its start and must get the same offsets
    // (advancing past its first lines gave them new ones: stored twice).
    for (let i = done.length - 1; i >= 0; i--) {
      const e = done[i] as Entry;
      if (e.endsPush) {
        this.state.nextOffset = e.msg.offset + 1;
        break;
      }
    }
    for (const e of done) e.onCommit?.();
    const next = this.state.nextOffset;
    if (this.state.unfinished?.length)
      this.state.unfinished = this.state.unfinished.filter((u) => u.first + u.count > next || (u.count === 0 && u.first > next));
    this.save();
    for (const w of this.spaceWaiters.splice(0)) w();
  }

  describe(): string {
    return 'in-process queue';
  }

  async prepare(): Promise<void> {}

  /** No dead-letter topic without Kafka: the rejects table holds every reject. */
  readonly deadLetterTopic = '';

  deadLetters(): LogProducer | undefined {
    return undefined;
  }

  private theConsumer: (LogConsumer & { drained: Promise<void>; destroy: () => Promise<void> }) | undefined;

  /** The one consumer of this queue. */
  consumer(): LogConsumer & { drained: Promise<void>; destroy: () => Promise<void> } {
    this.theConsumer ??= this.newConsumer();
    return this.theConsumer;
  }

  /** Nothing more comes: the consumer stops once the queue is drained. */
  async consumedAll(): Promise<void> {
    this.end();
    await this.consumer().drained;
  }

  async close(): Promise<void> {
    this.end();
  }

  private newConsumer(): LogConsumer & { drained: Promise<void>; destroy: () => Promise<void> } {
    const abort = new AbortController();
    const draining = new AbortController();
    let stop = false;
    let fatal: ((err: unknown) => void) | undefined;
    let resolveDrained!: () => void;
    const drained = new Promise<void>((r) => (resolveDrained = r));
    let loop: Promise<void> | undefined;
    const wait = (ms: number) =>
      new Promise<void>((r) => {
        const t = setTimeout(r, ms);
        this.wakeConsumer = () => {
          clearTimeout(t);
          r();
        };
      });
    const run = async (handler: BatchHandler) => {
      const max = this.opts.maxBatch ?? 50_000;
      const flush = this.opts.flushIntervalMs ?? 200;
      while (!stop) {
        if (this.entries.length < max && !this.ended) await wait(this.entries.length === 0 ? 1000 : flush);
        if (this.entries.length === 0) {
          if (this.ended) break;
          continue;
        }
        const take = this.entries.slice(0, max);
        try {
          const messages = take.map((e) => e.msg);
          const lastOffset = (messages[messages.length - 1] as LogMessage).offset;
          await handler(
            { topic: this.topic, partition: 0, messages, highWatermark: this.nextOffset, lastOffset },
            { heartbeat: async () => {}, signal: abort.signal, draining: draining.signal },
          );
        } catch (err) {
          // The processor retries what can be retried itself: what reaches here is
          // permanent (or the abort of a shutdown). Commit nothing, stop, and say so.
          if (!abort.signal.aborted && !draining.signal.aborted) {
            abort.abort(err);
            this.end();
            fatal?.(err);
          }
          break;
        }
        if (abort.signal.aborted) break;
        this.commit(take.length);
      }
      resolveDrained();
    };
    return {
      drained,
      onAssignment: (cb) => cb([{ topic: this.topic, partition: 0 }]),
      onFatal: (cb) => {
        fatal = cb;
      },
      start: async (handler: BatchHandler) => {
        loop = run(handler);
      },
      close: async () => {
        stop = true;
        draining.abort(new WeblogError('ABORTED', 'stopping'));
        this.wakeConsumer?.();
        await loop;
      },
      destroy: async () => {
        abort.abort(new WeblogError('ABORTED', 'consumer destroyed'));
        stop = true;
        this.wakeConsumer?.();
        await loop;
      },
    };
  }

  /** A ShipSink over this queue: progress is saved once the processor committed the lines. */
  shipSink(): ShipSink {
    return {
      loadProgress: async (filter) =>
        new Map(Object.entries(this.state.progress).filter(([k, p]) => (filter?.key?.(k) ?? true) && (filter?.record?.(p) ?? true))),
      ship: async (_topic, messages, progress, from) => {
        await this.push(
          messages,
          () => {
            this.state.progress[progress.key] = progress;
          },
          { from, progress },
        );
      },
      // Saved once every line pushed before it is committed, like a ship call's progress:
      // a record saved at once could claim lines that a crash then loses.
      record: (progress) =>
        this.push(
          [],
          () => {
            this.state.progress[progress.key] = progress;
          },
          this.entries.length > 0 ? { from: progress.offset, progress } : undefined,
        ),
      unfinished: () => this.replays,
      reship: (u, messages) =>
        this.push(
          messages,
          () => {
            this.state.progress[u.progress.key] = u.progress;
          },
          { from: u.from, progress: u.progress, at: u.first },
        ),
      abandon: (u) => {
        this.nextOffset = Math.max(this.nextOffset, u.first + u.count);
        this.state.floor = Math.max(this.state.floor ?? 0, u.first + u.count);
        this.save();
      },
      close: async () => {},
    };
  }
}
