/**
 * How the store's rows reach the embedded engine: written to a file in the
 * data folder and read with file() as the column table's types
 * (LowCardinality columns as String), converted to access_log's by chdb.
 * What access_log holds must not depend on that way: the same rows inserted
 * straight are stored with the same values. No row file outlives its
 * INSERT, nor a killed process; a folder that cannot take the file is
 * "unavailable" (retried), not a row chdb refused.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { rowBinaryTypes } from '../../../src/sink/columns.js';
import { RowBuffer } from '../../../src/sink/row-buffer.js';
import { accessLogColumns, AccessLogRowWriter } from '../../../src/sink/rows.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';

let dir = '';
const open: EmbeddedClickHouse[] = [];
afterEach(async () => {
  for (const ch of open.splice(0)) await ch.close();
  rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function database(): Promise<EmbeddedClickHouse> {
  dir ||= mkdtempSync(path.join(os.tmpdir(), 'weblog-embedded-insert-'));
  const ch = new EmbeddedClickHouse({ dir, database: uniqueName('ins') });
  open.push(ch);
  await migrate(ch);
  return ch;
}

async function sampleBody(): Promise<{ body: Buffer; count: number }> {
  const records = await enrichLines(readLines(fixture('logs', 'elastic_apache.log')).slice(0, 3000));
  const rows = new RowBuffer(1 << 21);
  const writer = new AccessLogRowWriter({ dialect: 'modern' });
  records.forEach((r, i) => writer.write(rows, r, { source: 's3://b/k', sourceOffset: i * 10, topic: 't', partition: 1, offset: i, line: 0 }));
  return { body: rows.bytes(0, rows.count), count: rows.count };
}

/** Every column but ingested_at (the time of the INSERT, a default of the table). */
const everyRow = (ch: EmbeddedClickHouse) => ch.query<Record<string, unknown>>('SELECT * EXCEPT ingested_at FROM access_log ORDER BY kafka_offset');
const count = async (ch: EmbeddedClickHouse, sql: string) => Number((await ch.query<{ c: string }>(sql))[0]?.c);
const types = rowBinaryTypes('modern');
const spool = () => path.join(dir, '.weblog-rows');

describe('rows into the embedded engine', () => {
  it('are stored with the values of a straight insert, fill the rollups, and leave no file', async () => {
    const { body, count: n } = await sampleBody();
    const [straight, typed] = [await database(), await database()];
    await straight.insertRows('access_log', accessLogColumns.modern, body, 'TabSeparated');
    await typed.insertRows('access_log', accessLogColumns.modern, body, 'TabSeparated', { types, dedupToken: 't:1:0.0-2999.0' });
    const [a, b] = [await everyRow(straight), await everyRow(typed)];
    expect(b).toHaveLength(n);
    expect(b).toEqual(a);
    expect(await count(typed, "SELECT dateDiff('second', min(ingested_at), now64(3)) AS c FROM access_log")).toBeLessThan(120); // the default, not an epoch
    expect(await count(typed, 'SELECT countMerge(hits) AS c FROM traffic_hourly')).toBe(n);
    expect(readdirSync(spool())).toEqual([]);
  });

  it('refuses a bad row as INSERT_REJECTED, stores nothing of its block and leaves no file', async () => {
    const { body } = await sampleBody();
    const ch = await database();
    const bad = Buffer.concat([body, Buffer.from(`${body.toString('utf8').split('\n')[0]?.replace(/\t/g, '\tx')}\n`)]);
    await expect(ch.insertRows('access_log', accessLogColumns.modern, bad, 'TabSeparated', { types })).rejects.toMatchObject({
      code: 'INSERT_REJECTED',
      retriable: false,
    });
    expect(await count(ch, 'SELECT count() AS c FROM access_log')).toBe(0);
    expect(readdirSync(spool())).toEqual([]);
  });

  it('is UNAVAILABLE (retried), not a refused row, when the data folder cannot take the file', async () => {
    const { body } = await sampleBody();
    const ch = await database();
    rmSync(spool(), { recursive: true, force: true });
    writeFileSync(spool(), 'not a folder');
    const err = await ch.insertRows('access_log', accessLogColumns.modern, body, 'TabSeparated', { types }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retriable: true });
    expect(String((err as Error).message)).toContain(spool());
    rmSync(spool());
  });

  it('removes row files a killed process left when the folder is opened again', async () => {
    await database();
    for (const ch of open.splice(0)) await ch.close();
    mkdirSync(spool(), { recursive: true });
    writeFileSync(path.join(spool(), '999-1.tsv'), 'left over');
    await database();
    expect(existsSync(path.join(spool(), '999-1.tsv'))).toBe(false);
  });

  it('go in straight when the data folder path holds file() glob characters', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-embedded-insert-{a,b}*-'));
    const { body, count: n } = await sampleBody();
    const ch = await database();
    await ch.insertRows('access_log', accessLogColumns.modern, body, 'TabSeparated', { types });
    expect(await count(ch, 'SELECT count() AS c FROM access_log')).toBe(n);
    expect(existsSync(spool())).toBe(false);
    // chdb's straight insert takes text only: RowBinary is not offered there.
    expect(ch.rowFormats).toEqual(['TabSeparated']);
    await expect(ch.insertRows('access_log', accessLogColumns.modern, Buffer.alloc(1), 'RowBinary', { types })).rejects.toMatchObject({
      code: 'INSERT_REJECTED',
      retriable: false,
    });
  });

  it('RowBinary first, read from a row file: rows without their types are refused, not misread', async () => {
    const ch = await database();
    expect(ch.rowFormats).toEqual(['RowBinary', 'TabSeparated']);
    await expect(ch.insertRows('access_log', accessLogColumns.modern, Buffer.alloc(8), 'RowBinary')).rejects.toMatchObject({
      code: 'INSERT_REJECTED',
      retriable: false,
      message: expect.stringContaining('need their column types'),
    });
    expect(await count(ch, 'SELECT count() AS c FROM access_log')).toBe(0);
  });

  it('refuses types that do not match the columns', async () => {
    const ch = await database();
    await expect(ch.insertRows('access_log', accessLogColumns.modern, Buffer.from('x\n'), 'TabSeparated', { types: types.slice(1) })).rejects.toMatchObject({
      code: 'INSERT_REJECTED',
      retriable: false,
    });
  });
});
