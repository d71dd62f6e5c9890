/**
 * A retried INSERT block (the same insert_deduplication_token, as the writer
 * sends when an attempt's answer was lost) is stored once: in access_log and
 * in every rollup the materialized views feed, on the current server and on
 * chdb. On ClickHouse 26.7 the views counted the retried block again (the
 * hourly rollup held 2x the raw rows of that block) until the rollup tables
 * had a deduplication window of their own and inserts asked for deduplication
 * in dependent views.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import type { ClickHouse } from '../../../src/sink/clickhouse/types.js';
import { rowBinaryTypes } from '../../../src/sink/columns.js';
import { accessLogColumns, AccessLogRowWriter } from '../../../src/sink/rows.js';
import { RowBuffer } from '../../../src/sink/row-buffer.js';
import { currentTarget } from '../../helpers/clickhouse.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-dedup-'));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const n = async (ch: ClickHouse, sql: string) => Number((await ch.query<{ c: string | number }>(sql))[0]?.c);

async function open(engine: string): Promise<ClickHouse> {
  if (engine === 'chdb') {
    const ch = new EmbeddedClickHouse({ dir, database: uniqueName('dedup') });
    cleanups.push(() => ch.close());
    return ch;
  }
  const ch = new HttpClickHouse({ url: currentTarget().url, database: uniqueName('dedup') });
  await ch.createDatabase();
  cleanups.push(async () => {
    await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
    await ch.close();
  });
  return ch;
}

describe.each(['the current ClickHouse server', 'chdb'])('a retried block on %s', (engine) => {
  it('is stored once in access_log and counted once by every rollup', async () => {
    const ch = await open(engine);
    await migrate(ch);
    const records = (await enrichLines(readLines(fixture('logs', 'elastic_apache.log')))).filter((r) => new Date(r.time).getUTCDate() === 18);
    const rows = new RowBuffer(1 << 20);
    const writer = new AccessLogRowWriter({ dialect: 'modern' });
    records.forEach((r, i) => writer.write(rows, r, { source: 's', sourceOffset: i, topic: 't', partition: 0, offset: i, line: 0 }));
    const body = rows.bytes(0, rows.count);
    // As the store sends them: chdb takes them through its staging table (a Null table and a view into access_log).
    const types = rowBinaryTypes('modern');
    for (let attempt = 0; attempt < 3; attempt++)
      await ch.insertRows('access_log', accessLogColumns.modern, body, 'TabSeparated', { dedupToken: 't:0:0.0-9.0', scope: 't/0', types });
    expect(await n(ch, 'SELECT count() AS c FROM access_log')).toBe(records.length);
    expect(await n(ch, 'SELECT countMerge(hits) AS c FROM traffic_hourly')).toBe(records.length);
    expect(await n(ch, 'SELECT countMerge(hits) AS c FROM traffic_monthly')).toBe(records.length);
    expect(await n(ch, 'SELECT sum(c) AS c FROM (SELECT countMerge(hits) AS c FROM pages_daily GROUP BY day, site, path)')).toBe(records.length);
    // The next block (another token) is counted.
    await ch.insertRows('access_log', accessLogColumns.modern, body, 'TabSeparated', { dedupToken: 't:0:10.0-19.0', scope: 't/0', types });
    expect(await n(ch, 'SELECT countMerge(hits) AS c FROM traffic_hourly')).toBe(2 * records.length);
  });
});
