import { describe, expect, it } from 'vitest';
import { describeStatus, pendingQuorums } from '../../../../src/sink/clickhouse/quorum.js';
import type { QueryParams } from '../../../../src/sink/clickhouse/types.js';

// The text of /quorum/status as ClickHouse 18.16 wrote it for an INSERT that timed out waiting for replica r2.
const status = 'version: 1\npart_name: all_0_0_0\nrequired_number_of_replicas: 2\nactual_number_of_replicas: 1\nreplicas:\nr1\n';

/** Answers system.replicas with `tables` and system.zookeeper with `nodes`; records the SQL it was sent. */
function server(tables: { table: string; path: string }[], nodes: { table: string; name: string; value: string; n: number }[]) {
  const sent: { sql: string; params?: QueryParams }[] = [];
  const query = <T>(sql: string, params?: QueryParams): Promise<T[]> => {
    sent.push({ sql, ...(params ? { params } : {}) });
    return Promise.resolve((sql.includes('system.replicas') ? tables : nodes) as T[]);
  };
  return { query, sent };
}

describe('pending quorum INSERTs', () => {
  it('names the part, how many replicas have it of how many, and which', () => {
    expect(describeStatus(status)).toBe('part all_0_0_0 on 1 of 2 replicas (r1)');
    expect(describeStatus('garbled')).toBe('part ? on ? of ? replicas');
  });

  it('a status node is pending, so is a parallel node with children; last_part and failed_parts are not', async () => {
    const s = server(
      [
        { table: 'access_log_local', path: '/clickhouse/tables/1/db/access_log_local' },
        { table: 'rejects_local', path: "/clickhouse/tables/1/db/it's" },
      ],
      [
        { table: 'access_log_local', name: 'last_part', value: 'version: 2\n', n: 0 },
        { table: 'access_log_local', name: 'failed_parts', value: '', n: 0 },
        { table: 'access_log_local', name: 'parallel', value: '', n: 0 },
        { table: 'rejects_local', name: 'status', value: status, n: 0 },
        { table: 'rejects_local', name: 'parallel', value: '', n: 3 },
      ],
    );
    expect(await pendingQuorums(s.query, 'db')).toEqual([
      { table: 'rejects_local', detail: 'part all_0_0_0 on 1 of 2 replicas (r1)' },
      { table: 'rejects_local', detail: '3 parallel quorum INSERT(s)' },
    ]);
    expect(s.sent[0]?.params).toEqual({ db: 'db' });
    // system.zookeeper takes one constant path per SELECT: one each table, quoted.
    expect(s.sent[1]?.sql).toContain("WHERE path = '/clickhouse/tables/1/db/access_log_local/quorum' UNION ALL SELECT 'rejects_local'");
    expect(s.sent[1]?.sql).toContain("WHERE path = '/clickhouse/tables/1/db/it\\'s/quorum'");
  });

  it('a database without replicated tables asks Keeper nothing', async () => {
    const s = server([], []);
    expect(await pendingQuorums(s.query, 'db')).toEqual([]);
    expect(s.sent).toHaveLength(1);
  });
});
