/**
 * The transport between shipper and processor, independent of the client
 * library: Kafka (kafkajs, kafka.ts) or an in-process bounded queue
 * (memory.ts). The processor relies on exactly these semantics:
 * - batches hold messages of one topic-partition in offset order;
 * - a batch's offsets are committed only after its handler resolved;
 * - a handler that throws, or a shutdown, commits nothing (redelivery).
 */

/** Message headers written by the shipper. */
export const headerNames = { source: 'weblog-source', sourceOffset: 'weblog-offset', etag: 'weblog-etag' } as const;

export interface LogMessage {
  /** The raw log line. */
  value: string;
  offset: number;
  /** Object key / file the line came from ('' when the producer did not say). */
  source: string;
  /** Byte offset of the line in its source (-1 when unknown). */
  sourceOffset: number;
  /** Produce time, epoch ms. */
  timestamp: number;
}

export interface LogBatch {
  topic: string;
  partition: number;
  messages: LogMessage[];
  /** Offset of the next message the broker will write (lag = highWatermark - last offset - 1). */
  highWatermark: number;
}

export interface BatchControl {
  /** Keeps group membership during long work; throws when a rebalance started. */
  heartbeat(): Promise<void>;
  /** Aborted when the worker is shutting down: stop, commit nothing. */
  readonly signal: AbortSignal;
}

export type BatchHandler = (batch: LogBatch, ctl: BatchControl) => Promise<void>;

export interface LogConsumer {
  /** Starts consuming; resolves once running. */
  start(handler: BatchHandler): Promise<void>;
  /** Called after every (re)assignment of partitions, before their first batch. */
  onAssignment(cb: (assigned: { topic: string; partition: number }[]) => void): void;
  /** Stops fetching, lets the handler in flight finish, commits, leaves the group. Idempotent. */
  close(): Promise<void>;
}

export interface OutboundMessage {
  key?: string | null;
  value: string;
  headers?: Record<string, string>;
}

export interface LogProducer {
  /** Resolves when the messages are durable (acknowledged). */
  send(topic: string, messages: OutboundMessage[]): Promise<void>;
  close(): Promise<void>;
}
