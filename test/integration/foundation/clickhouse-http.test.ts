import { createClient } from '@clickhouse/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
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
