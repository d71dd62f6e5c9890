/**
 * The books of an exactly-once test: what a database holds against the lines
 * produced (rows + rejects = lines, no position twice), and the topic of
 * real lines they start from.
 */
import type { Kafka } from 'kafkajs';
import { expect } from 'vitest';
import type { ClickHouse } from '../../src/sink/clickhouse/types.js';
import type { DedicatedClickHouse } from './clickhouse-server.js';
import type { RunningProcessor } from './processor.js';
import { fixture, readLines } from './datasets.js';
import { produceMixed, scopedTopic } from './kafka.js';
import { waitUntil } from './wait.js';

const sample = readLines(fixture('logs', 'elastic_apache.log'));

/** n lines cycling through the real sample (its one cut-off line included, so rejects occur). */
export const sampleLines = (n: number): string[] => Array.from({ length: n }, (_, i) => sample[i % sample.length] as string);

/** How many of the sample's lines are rejects. */
export const rejectsIn = (lines: string[]): number => lines.filter((l) => !l.endsWith('"')).length;

export interface Books {
  rows: number;
  rejects: number;
  /** Rows (rejects) beyond one per (partition, offset, line). */
  dupRows: number;
  dupRejects: number;
}

export async function books(ch: ClickHouse): Promise<Books> {
  const [r] = await ch.query<Record<string, string | number>>(
    'SELECT (SELECT count() FROM access_log) AS rows, (SELECT count() FROM rejects) AS rejects, (SELECT count() - uniqExact(kafka_partition, kafka_offset, kafka_line) FROM access_log) AS dup_rows, (SELECT count() - uniqExact(kafka_partition, kafka_offset, kafka_line) FROM rejects) AS dup_rejects',
  );
  return { rows: Number(r?.rows), rejects: Number(r?.rejects), dupRows: Number(r?.dup_rows), dupRejects: Number(r?.dup_rejects) };
}

/** What the books must read once every line of the sample's `lines` is stored. */
export const balanced = (lines: string[]): Books => ({ rows: lines.length - rejectsIn(lines), rejects: rejectsIn(lines), dupRows: 0, dupRejects: 0 });

/** A topic of the scope holding `lines`, in one-line messages and bundles mixed. */
export async function topicWithLines(scope: { kafka: Kafka; topics: string[] }, lines: string[], partitions: number): Promise<string> {
  const topic = await scopedTopic(scope, partitions);
  await produceMixed(scope.kafka, topic, lines);
  return topic;
}

/** Waits until `n` lines are stored as rows or rejects. */
export const allStored = (ch: ClickHouse, n: number, timeoutMs = 180_000): Promise<unknown> =>
  waitUntil('all lines stored', async () => ((b) => b.rows + b.rejects >= n || undefined)(await books(ch)), timeoutMs);

/** Three times: once rows flow, the server hangs (SIGSTOP) for 5 s, past a short request timeout, and resumes. */
export async function hangThrice(server: DedicatedClickHouse, ch: ClickHouse): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const before = (await books(ch)).rows;
    await waitUntil('rows flowing', async () => (await books(ch)).rows > before + 1500 || undefined, 60_000, 20);
    server.pause();
    await new Promise((r) => setTimeout(r, 5000));
    server.resume();
  }
}

/** After server hangs: retries happened; once a late INSERT had time to land, the books balance. */
export async function expectBalancedAfterHangs(run: RunningProcessor, ch: ClickHouse, lines: string[]): Promise<void> {
  expect(run.processor.metrics.retries.total()).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 2000)); // a late INSERT would land now
  await run.stop();
  expect(await books(ch)).toEqual(balanced(lines));
}
