/**
 * The transport between shipper and processor, independent of the client
 * library: Kafka (kafkajs, kafka.ts) or an in-process bounded queue
 * (memory.ts). The processor relies on exactly these semantics:
 * - batches hold messages of one topic-partition in offset order;
 * - a batch's offsets are committed only after its handler resolved;
 * - a handler that throws, or a shutdown, commits nothing (redelivery).
 */
import { WeblogError } from '../errors.js';

/** Message headers written by the shipper. */
export const headerNames = { source: 'weblog-source', sourceOffset: 'weblog-offset', etag: 'weblog-etag', reject: 'weblog-reject' } as const;

/** The values of the reject header the shipper writes; a consumer ignores any other. */
export const shipperRejectReasons = ['line_too_long', 'trailing_garbage'] as const;
export type ShipperRejectReason = (typeof shipperRejectReasons)[number];

/** The reject header's value when it is one the shipper writes; any other value (another producer's) is ignored. */
export function shipperRejectReason(v: string | undefined): ShipperRejectReason | undefined {
  return v !== undefined && (shipperRejectReasons as readonly string[]).includes(v) ? (v as ShipperRejectReason) : undefined;
}

/** One log line: a message holds one line or a bundle of them (see message-lines.ts). */
export interface LogMessage {
  /** The raw log line. */
  value: string;
  /** Offset of the Kafka message holding the line. */
  offset: number;
  /** Index of the line in its message (0 for one-line messages): (offset, line) identifies a line. */
  line: number;
  /** Object key / file the line came from ('' when the producer did not say). */
  source: string;
  /** Byte offset of the line in its source (-1 when unknown). */
  sourceOffset: number;
  /** Produce time, epoch ms. */
  timestamp: number;
  /** Set by the shipper when it could not send the line as is. */
  rejectReason?: ShipperRejectReason | undefined;
}

export interface LogBatch {
  topic: string;
  partition: number;
  /** The lines of the batch's messages, in (offset, line) order. */
  messages: LogMessage[];
  /** Offset of the next message the broker will write. */
  highWatermark: number;
  /**
   * Offset of the batch's last record, transaction markers included (a
   * transactional topic ends with one): lag = highWatermark - lastOffset - 1.
   * A batch of markers alone comes with no messages.
   */
  lastOffset: number;
}

export interface BatchControl {
  /** Keeps group membership during long work; throws when a rebalance started. */
  heartbeat(): Promise<void>;
  /** Aborted when the worker is shutting down: stop, commit nothing. */
  readonly signal: AbortSignal;
  /**
   * Aborted when a graceful stop began: the attempt in flight may finish (and
   * the batch commit), but no retry starts; a batch that cannot finish is left
   * uncommitted and consumed again after a restart.
   */
  readonly draining: AbortSignal;
}

export type BatchHandler = (batch: LogBatch, ctl: BatchControl) => Promise<void>;

export interface LogConsumer {
  /** Starts consuming; resolves once running. */
  start(handler: BatchHandler): Promise<void>;
  /** Called after every (re)assignment of partitions, before their first batch. */
  onAssignment(cb: (assigned: { topic: string; partition: number }[]) => void): void;
  /** Called once when the handler failed for good (a permanent error): nothing of that batch is committed, consuming stops. */
  onFatal(cb: (err: unknown) => void): void;
  /** Stops fetching, lets the handler in flight finish, commits, leaves the group. Idempotent. */
  close(): Promise<void>;
}

export interface OutboundMessage {
  key?: string | Buffer | null;
  /** One line, or a bundle of consecutive lines with their LFs (see message-lines.ts). */
  value: string | Buffer;
  headers?: Record<string, string>;
}

export interface LogProducer {
  /** Resolves when the messages are durable (acknowledged). */
  send(topic: string, messages: OutboundMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** How far one source object has been shipped. Stored per object key. */
export interface ShipProgress {
  key: string;
  etag: string;
  /** Byte offset (in the decompressed content) after the last line shipped. */
  offset: number;
  /** Lines shipped so far. */
  lines: number;
  /** The whole object is shipped (S3 objects; local files can grow and stay open). */
  done: boolean;
  /** Why the object could not be read, when it could not. */
  failed?: string | undefined;
  /** The object's size when it failed (another size later: it changed, and is read again). */
  size?: number | undefined;
  /** Why it was given up (--skip-failed), when it was: it counts as done. */
  skipped?: string | undefined;
  /** Growing local files: FNV-1a of their first `headLength` bytes, to notice a file rewritten in place. */
  head?: string | undefined;
  headLength?: number | undefined;
  updatedAt: number;
}

/**
 * Which progress records a load keeps: `key` is asked before a record is
 * parsed, `record` after. A record not kept also drops the older records of
 * its key, so what is kept is the newest record of each key, where kept.
 */
export interface ProgressFilter {
  key?: ((key: string) => boolean) | undefined;
  record?: ((p: ShipProgress) => boolean) | undefined;
}

/** Where the shipper puts lines: the messages and the progress record land together or not at all. */
export interface ShipSink {
  /** The progress records, newest per key; `filter` keeps fewer (a start from a listing floor). */
  loadProgress(filter?: ProgressFilter): Promise<Map<string, ShipProgress>>;
  /** `from`: the byte offset in the object where the batch's lines begin. */
  ship(topic: string, messages: OutboundMessage[], progress: ShipProgress, from: number): Promise<void>;
  /** Records progress alone (e.g. a failure). */
  record(progress: ShipProgress): Promise<void>;
  close(): Promise<void>;
  /**
   * Sinks whose lines get their positions when shipped (the in-process
   * queue): the ship calls of the last run whose lines were not all
   * committed, in order. The shipper sends each again, with the same lines,
   * through `reship` before anything else, so every line gets the position
   * it had and the processor's skip rule holds whatever was listed since.
   */
  unfinished?(): readonly UnfinishedShip[];
  reship?(u: UnfinishedShip, messages: OutboundMessage[]): Promise<void>;
  /** The lines of `u` cannot be read again (the file is gone or changed): their positions are never given to other lines. */
  abandon?(u: UnfinishedShip): void;
}

/**
 * Which objects a shipper of a group owns: those whose key hashes to one of
 * the slots the group assigned it. A new assignment takes effect through
 * claim(), which fences the slots' former owners before their progress is
 * read again.
 */
export interface ShipOwnership {
  /** Slots in all (the work topic's partitions). */
  readonly slots: number;
  /** Grows with each assignment (and each rebalance that starts). */
  readonly generation: number;
  /** Whether this shipper owns the slot now (none while a rebalance runs). */
  owns(slot: number): boolean;
  /** Resolves once this shipper has an assignment (or `signal` aborts). */
  ready(signal: AbortSignal): Promise<void>;
  /** Takes over the slots assigned: their transactional ids (fencing a former owner), dropping the others. */
  claim(): Promise<void>;
  /** Called at each assignment and each rebalance that starts. */
  onChange(fn: () => void): void;
}

/** A write for an object of a slot this shipper does not own (any more): the slot moved to another shipper of the group. */
export class SlotLostError extends WeblogError {
  constructor(key: string, slot?: number) {
    super('ABORTED', slot === undefined ? `${key}: the group assigned its slots anew` : `${key}: slot ${slot} belongs to another shipper of the group now`);
  }
}

/** A ship call whose lines were not all committed when the run stopped. */
export interface UnfinishedShip {
  /** Position of its first line, and how many lines it held (0: a progress record alone). */
  first: number;
  count: number;
  /** The byte offset in the object where its lines begin. */
  from: number;
  /** The progress it recorded (key, identity, end offset). */
  progress: ShipProgress;
}

/**
 * What carries lines from the shipper to the processor: Kafka, or the
 * in-process queue of `weblog run`. The jobs (src/app/jobs.ts) are
 * written against this alone.
 */
export interface Transport {
  /** The topic of raw lines (the rows' kafka_topic). */
  readonly topic: string;
  /** Where the lines travel, for messages (no secrets). */
  describe(): string;
  /** Creates what the transport needs (Kafka topics, when allowed) and waits until it is usable. */
  prepare(needs: { ship?: boolean; process?: boolean }): Promise<void>;
  /** The shipper's way in: lines and their progress, landing together. */
  shipSink(): ShipSink;
  /** The processor's way out: batches of one partition, committed after the handler. */
  consumer(): LogConsumer & { health?: () => { ok: boolean; detail: string }; destroy?: () => Promise<void> };
  /** Where rejected lines are also sent, if anywhere. */
  deadLetters(): LogProducer | undefined;
  /** The topic of deadLetters() ('' when there is none). */
  readonly deadLetterTopic: string;
  /**
   * Called after the shipper finished (no --follow): resolves once the
   * consumer has committed every line shipped, or `stop()` says to give up.
   */
  consumedAll(stop: () => boolean): Promise<void>;
  /** Releases the transport's clients. */
  close(): Promise<void>;
}
