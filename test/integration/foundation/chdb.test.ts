import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'chdb';
import { afterAll, describe, expect, it } from 'vitest';

describe('chdb (embedded ClickHouse)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-chdb-'));
  const session = new Session(dir);

  afterAll(() => {
    session.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a MergeTree table, inserts and queries with a window function', () => {
    session.query('CREATE TABLE t (h DateTime, hits UInt64) ENGINE = MergeTree ORDER BY h');
    session.query("INSERT INTO t SELECT toDateTime('2024-01-01 00:00:00') + number * 3600, number + 1 FROM numbers(5)");
    const out = session.query('SELECT hits, sum(hits) OVER (ORDER BY h) AS running FROM t ORDER BY h', 'JSONCompactEachRow');
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as number[]),
    ).toEqual([
      [1, 1],
      [2, 3],
      [3, 6],
      [4, 10],
      [5, 15],
    ]);
    expect(session.query('SELECT version()', 'TSV').trim()).toMatch(/^2\d\./);
  });
});
