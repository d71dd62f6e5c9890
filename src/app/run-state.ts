/**
 * `weblog run` without Kafka keeps its queue offsets and ship progress in a
 * state file beside the embedded data. That file decides which lines are new;
 * the rows in ClickHouse say what was stored. When the two disagree (the file
 * was deleted, restored from an old backup, or the database was dropped),
 * guessing loses lines or stores them twice (seen: 1,999 of 2,000 new lines
 * skipped as "already stored" after the file was deleted). So the run stops
 * and says what to do.
 */
import path from 'node:path';
import { WeblogError } from '../errors.js';
import { defaultDataDir, type ClickHouseConfig } from '../sink/clickhouse/open.js';
import { clickhouseDefaults } from '../sink/clickhouse/types.js';

export interface QueueState {
  topic: string;
  stateFile: string;
  stateLoaded: boolean;
  /** Offset after the last message committed in earlier runs. */
  committedOffset: number;
}

export interface StoredFromQueue {
  rows: number;
  rejects: number;
  /** Highest kafka_offset stored from the queue's topic, -1 when none. */
  maxOffset: number;
}

/** Throws STATE_INVALID, saying what to do, when the state file and ClickHouse disagree. */
export function checkQueueState(queue: QueueState, stored: StoredFromQueue, where: string): void {
  const held = `${where} holds ${stored.rows.toLocaleString('en-US')} rows and ${stored.rejects.toLocaleString('en-US')} rejects from earlier runs`;
  const advice = 'restore the file, or start over with --reset (drops the stored rows and the state)';
  if (!queue.stateLoaded && stored.maxOffset >= 0) {
    throw new WeblogError(
      'STATE_INVALID',
      `the run state ${queue.stateFile} is missing, but ${held}: without it weblog cannot tell which lines are new; ${advice}`,
    );
  }
  // Stored offsets beyond the state are normal after a crash between INSERT and commit:
  // those lines are shipped again with the same offsets and skipped.
  if (queue.stateLoaded && queue.committedOffset > 0 && stored.maxOffset < 0) {
    throw new WeblogError(
      'STATE_INVALID',
      `the run state ${queue.stateFile} says ${queue.committedOffset.toLocaleString('en-US')} lines were stored, but ${where} holds none of them (dropped?); start over with --reset to ship them again`,
    );
  }
}

/**
 * The state file of the in-process queue: beside the embedded data, per
 * target (the embedded folder's database, or the server and database), so
 * an embedded run's state is never read for a server (STATE_INVALID after
 * `npm start` then `weblog run --clickhouse URL` in the same folder).
 */
export function runStateFile(cfg: ClickHouseConfig): string {
  const db = cfg.database ?? clickhouseDefaults.database;
  let name = `run-state-${db}.json`;
  if (cfg.url) {
    let where = 'server';
    try {
      const u = new URL(cfg.url);
      where = `${u.hostname}_${u.port || (u.protocol === 'https:' ? '443' : '8123')}`.replace(/[^A-Za-z0-9_.-]/g, '_');
    } catch {
      // openClickHouse refuses the URL, naming it
    }
    name = `run-state-${where}-${db}.json`;
  }
  return path.join(path.resolve(cfg.embedded ?? defaultDataDir), name);
}
