import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { leastPrivilegeUsers } from '../../stack/clickhouse-current.js';
import { currentTarget, serverTargets, withUser } from '../../helpers/clickhouse.js';
import { uniqueName } from '../../helpers/names.js';

describe('real ClickHouse server over HTTP', () => {
  const client = createClient({ url: inject('endpoints').clickhouseUrl });
  const db = uniqueName('foundation');

  afterAll(async () => {
    await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await client.close();
  });

  it('inserts rows and reads them back', async () => {
    await client.command({ query: `CREATE DATABASE ${db}` });
    await client.command({ query: `CREATE TABLE ${db}.t (id UInt32, path String, ts DateTime) ENGINE = MergeTree ORDER BY id` });
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i, path: `/p/${i % 10}`, ts: '2015-05-17 10:05:03' }));
    await client.insert({ table: `${db}.t`, values: rows, format: 'JSONEachRow' });
    const res = await client.query({ query: `SELECT path, count() AS c FROM ${db}.t GROUP BY path ORDER BY path`, format: 'JSONEachRow' });
    const got = await res.json<{ path: string; c: string | number }>();
    expect(got).toHaveLength(10);
    expect(got.map((r) => Number(r.c))).toEqual(new Array(10).fill(100));
    expect(got[0]?.path).toBe('/p/0');
  });

  it('answers a bad query with a ClickHouse error, not a hang', async () => {
    await expect(client.query({ query: `SELECT no_such_column FROM ${db}.t` })).rejects.toThrow(/no_such_column|Missing columns/);
  });
});

const targets = [
  ...serverTargets().map((t) => ({ ...t, database: 'default' })),
  {
    ...currentTarget(),
    label: 'the current server as a readonly = 1 user',
    url: withUser(currentTarget().url, leastPrivilegeUsers.reader),
    database: uniqueName('lp_ro'),
  },
];
const current = createClient({ url: currentTarget().url });
beforeAll(async () => {
  for (const t of targets) if (t.database.startsWith('lp_')) await current.command({ query: `CREATE DATABASE ${t.database}` });
});
afterAll(async () => {
  for (const t of targets) if (t.database.startsWith('lp_')) await current.command({ query: `DROP DATABASE IF EXISTS ${t.database}` });
  await current.close();
});

describe.each(targets)('weblog over HTTP on $label', ({ url, database }) => {
  it('reads 64-bit integers exactly (a current server writes them as bare JSON numbers by default: 2^64-1 came back as 18446744073709552000)', async () => {
    const ch = new HttpClickHouse({ url, database });
    try {
      const [row] = await ch.query<{ x: unknown; y: unknown }>('SELECT toUInt64(18446744073709551615) AS x, toInt64({v:Int64}) AS y', {
        v: '-9007199254740993',
      });
      expect(row).toEqual({ x: '18446744073709551615', y: '-9007199254740993' });
      const table = await ch.queryTable('SELECT toUInt64(9007199254740993) AS z');
      expect(table.rows).toEqual([{ z: '9007199254740993' }]);
    } finally {
      await ch.close();
    }
  });
});
