/** The shipper's options and their defaults, in one place (the CLI shows them). */
import { bundleDefaults } from '../source/bundles.js';
import type { ListingOptions } from './listing.js';
import type { NotifyOptions } from './notified.js';

/** The shipper's defaults. */
export const shipDefaults = {
  // A transaction per 20,000 lines / 4 MiB: fewer commits (each waits for the broker) made shipping 2-3x faster than 5,000 / 1 MiB.
  batchLines: 20_000,
  batchBytes: 4 * 1024 * 1024,
  linesPerMessage: 1000,
  messageBytes: 64 * 1024,
  maxLineBytes: bundleDefaults.maxLineBytes,
  pollIntervalMs: 5000,
  /** S3: the poll interval grows to this while nothing is new (local folders keep the interval: a readdir is cheap). */
  pollMaxMs: 60_000,
  replicas: 1,
  replicaIndex: 0,
} as const;

export interface ShipOptions {
  topic: string;
  /** Message key: none (spread over partitions), source (one object -> one partition), ip (first field of the line; one line per message). Default none. */
  key?: 'none' | 'source' | 'ip';
  /** Lines per message at most (default 1,000); 1 sends each line alone, without its LF, as other shippers do. */
  linesPerMessage?: number;
  /** Bytes per message at most, for bundles (default 64 KiB; a longer line still travels alone). */
  messageBytes?: number;
  /** Lines per batch, one transaction (default 20,000). */
  batchLines?: number;
  /** Bytes per batch (default 4 MiB). */
  batchBytes?: number;
  /** Longest line in bytes; longer ones go on as rejects with a reason (default 64 KiB). */
  maxLineBytes?: number;
  /** This replica's index and the number of replicas: objects are sharded by a hash of their key. */
  replicaIndex?: number;
  replicas?: number;
  /** Ship an object again from the start when its ETag changed (default true). */
  reshipChanged?: boolean;
  /** Try objects recorded as failed again (default false). */
  retryFailed?: boolean;
  /** Mark objects recorded as failed as skipped: they are no longer reported (default false). */
  skipFailed?: boolean;
  /** Keep polling (default false). */
  follow?: boolean;
  /** Poll interval with --follow, ms (default 5,000). */
  pollIntervalMs?: number;
  /** Longest poll interval while nothing is new, ms (default 60,000 for S3; the interval for local folders). */
  pollMaxMs?: number | undefined;
  /** What each pass lists (listing.ts). */
  listing?: ListingOptions | undefined;
  /** With a notification queue: how its messages are handled (notified.ts). */
  notify?: NotifyOptions | undefined;
}
