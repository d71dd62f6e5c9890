/**
 * Quorum INSERTs whose part is written but not yet on enough replicas (a
 * cluster with insert_quorum > 1).
 *
 * A quorum INSERT that gives up waiting for its replicas (code 159, answered
 * as 319 "Unknown status, client must retry") has written and registered its
 * part: the quorum completes once enough replicas fetch it. Until then
 * select_sequential_consistency hides that part and every later one. A
 * read-back then finds those lines not stored, and they are sent again in a
 * block of another shape (a batch fetched again after a rebalance), which
 * replication does not take for a retry: once the quorum completes the lines
 * are there twice. So the read-back waits while a quorum is pending.
 */
import { sqlString } from './sql.js';
import type { QueryParams } from './types.js';

type Query = <T>(sql: string, params?: QueryParams) => Promise<T[]>;

/** A pending quorum INSERT, for a message: its table, part and replicas. */
export interface PendingQuorum {
  table: string;
  detail: string;
}

/** Reads Keeper's quorum nodes of every replicated table of `database` (one query each table: system.zookeeper takes one path). */
export async function pendingQuorums(query: Query, database: string): Promise<PendingQuorum[]> {
  const tables = await query<{ table: string; path: string }>('SELECT table, zookeeper_path AS path FROM system.replicas WHERE database = {db:String}', {
    db: database,
  });
  if (tables.length === 0) return [];
  const nodes = await query<{ table: string; name: string; value: string; n: number | string }>(
    tables
      .map((t) => `SELECT ${sqlString(t.table)} AS table, name, value, numChildren AS n FROM system.zookeeper WHERE path = ${sqlString(`${t.path}/quorum`)}`)
      .join(' UNION ALL '),
  );
  const out: PendingQuorum[] = [];
  for (const node of nodes) {
    // 'status': the one quorum INSERT of a table in flight (18.x, or insert_quorum_parallel = 0); 'parallel': one child each.
    if (node.name === 'status') out.push({ table: node.table, detail: describeStatus(node.value) });
    else if (node.name === 'parallel' && Number(node.n) > 0) out.push({ table: node.table, detail: `${node.n} parallel quorum INSERT(s)` });
  }
  return out;
}

/** "part all_0_0_0 on 1 of 2 replicas (r1)" from a quorum status node's text. */
export function describeStatus(value: string): string {
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(value)?.[1];
  const replicas = /^replicas:\n([\s\S]*)$/m.exec(value)?.[1]?.split('\n').filter(Boolean) ?? [];
  const part = field('part_name') ?? '?';
  return `part ${part} on ${field('actual_number_of_replicas') ?? '?'} of ${field('required_number_of_replicas') ?? '?'} replicas${replicas.length ? ` (${replicas.join(', ')})` : ''}`;
}
