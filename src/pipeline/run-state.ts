/**
 * `weblog run` without Kafka keeps its queue offsets and ship progress in a
 * state file beside the embedded data. That file decides which lines are new;
 * the rows in ClickHouse say what was stored. When the two disagree (the file
 * was deleted, restored from an old backup, or the database was dropped),
 * guessing loses lines or stores them twice (seen: 1,999 of 2,000 new lines
 * skipped as "already stored" after the file was deleted). So the run stops
 * and says what to do.
 */
import { WeblogError } from '../errors.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';

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

export async function storedFromQueue(ch: ClickHouse, topic: string): Promise<StoredFromQueue> {
  const q = (table: string) => `SELECT count() AS c, max(kafka_offset) AS m FROM ${table} WHERE kafka_topic = '${topic.replace(/[^A-Za-z0-9._-]/g, '')}'`;
  const [rows, rejects] = await Promise.all([
    ch.query<{ c: string | number; m: string | number }>(q('access_log')),
    ch.query<{ c: string | number; m: string | number }>(q('rejects')),
  ]);
  const r = Number(rows[0]?.c ?? 0);
  const j = Number(rejects[0]?.c ?? 0);
  const max = Math.max(r > 0 ? Number(rows[0]?.m) : -1, j > 0 ? Number(rejects[0]?.m) : -1);
  return { rows: r, rejects: j, maxOffset: max };
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
