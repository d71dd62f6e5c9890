/**
 * Question: what does storing a row cost the embedded engine (chdb), and
 * where does it go? The same enriched rows (the Elastic sample cycled to
 * --lines), in INSERTs of up to 50,000 rows as `weblog run` sends them,
 * into: access_log through chdb's raw insert call (TabSeparated;
 * LowCardinality columns filled value by value while parsing), access_log
 * through a row file read with file() as String and converted a block at a
 * time, as TabSeparated and as RowBinary (what weblog sends now), the same
 * without the four rollup views, and Null tables of the columns (what
 * reading the rows alone costs, each format). CPU of the
 * whole process (chdb runs in it: parsing, part writing, views, merges),
 * from the first INSERT until the process is idle again; variants
 * interleaved, --rounds rounds, medians.
 * Run: npm run bench -- embedded-insert [--lines 300000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../src/sink/clickhouse/embedded.js';
import { columnsOf, rowBinaryTypes } from '../src/sink/columns.js';
import type { RowFormat } from '../src/sink/clickhouse/types.js';
import { AccessLogRowWriter, accessLogColumns } from '../src/sink/rows.js';
import { idle, insertBodies, median, sampleRecords } from './sample-rows.js';

const views = ['traffic_hourly_mv', 'traffic_monthly_mv', 'pages_daily_mv', 'top_hourly_mv'];

interface Variant {
  label: string;
  /** Changes the freshly migrated database. */
  prepare?: (ch: EmbeddedClickHouse) => Promise<void>;
  /** Rows sent with the column types, as the store sends them (read with file()); else chdb's raw insert. */
  typed: boolean;
  format: RowFormat;
}

const declared = columnsOf('modern').map((c) => `${c.name} ${c.type.modern as string}`);
const asString = columnsOf('modern').map((c, i) => `${c.name} ${rowBinaryTypes('modern')[i] as string}`);
const nullTable = (cols: string[]) => async (ch: EmbeddedClickHouse) => {
  await ch.exec('DROP TABLE access_log');
  await ch.exec(`CREATE TABLE access_log (${cols.join(', ')}) ENGINE = Null`);
};
const noViews = async (ch: EmbeddedClickHouse) => {
  for (const v of views) await ch.exec(`DROP VIEW IF EXISTS ${v}`);
};

const variants: Variant[] = [
  { label: 'access_log + 4 views, raw insert call, TabSeparated, LowCardinality filled while parsing (2026-12-07)', typed: false, format: 'TabSeparated' },
  { label: 'access_log + 4 views, TabSeparated row file read with file() as String, converted per block (2026-12-07)', typed: true, format: 'TabSeparated' },
  { label: 'access_log + 4 views, RowBinary row file read with file() (**weblog**)', typed: true, format: 'RowBinary' },
  { label: 'access_log without the views, RowBinary row file', typed: true, format: 'RowBinary', prepare: noViews },
  { label: 'Null table, String columns, TabSeparated row file (reading only)', typed: true, format: 'TabSeparated', prepare: nullTable(asString) },
  { label: 'Null table, String columns, RowBinary row file (reading only)', typed: true, format: 'RowBinary', prepare: nullTable(asString) },
  { label: 'Null table, LowCardinality columns, raw insert call (reading only)', typed: false, format: 'TabSeparated', prepare: nullTable(declared) },
];

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export async function benchEmbeddedInsert(lineCount: number, rounds: number): Promise<string> {
  const recs = await sampleRecords();
  const bodies = {
    TabSeparated: insertBodies(new AccessLogRowWriter({ format: 'TabSeparated', dialect: 'modern', timezone: 'UTC' }), recs, lineCount, 'bench'),
    RowBinary: insertBodies(new AccessLogRowWriter({ format: 'RowBinary', dialect: 'modern', timezone: 'UTC' }), recs, lineCount, 'bench'),
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-bench-embedded-'));
  const dbs: EmbeddedClickHouse[] = [];
  try {
    for (const [i, v] of variants.entries()) {
      const ch = new EmbeddedClickHouse({ dir, database: `bench_${i}` });
      dbs.push(ch);
      await migrate(ch);
      await v.prepare?.(ch);
    }
    const cpu = variants.map(() => [] as number[]);
    const wall = variants.map(() => [] as number[]);
    const types = rowBinaryTypes('modern');
    await idle(cpuSeconds);
    for (let round = 0; round < rounds; round++)
      for (const [i, v] of variants.entries()) {
        const ch = dbs[i] as EmbeddedClickHouse;
        const c0 = cpuSeconds();
        const t0 = performance.now();
        for (const [k, body] of bodies[v.format].entries())
          await ch.insertRows('access_log', accessLogColumns.modern, body, v.format, {
            dedupToken: `bench:${round}:${k}`,
            ...(v.typed ? { types } : {}),
          });
        wall[i]?.push(performance.now() - t0);
        await idle(cpuSeconds);
        cpu[i]?.push(((cpuSeconds() - c0) * 1e6) / lineCount);
        for (const t of ['access_log', 'traffic_hourly', 'traffic_monthly', 'pages_daily', 'top_hourly'])
          await ch.exec(`TRUNCATE TABLE IF EXISTS ${t}`).catch(() => undefined); // a Null table has nothing to truncate
        await idle(cpuSeconds);
      }
    const base = median(cpu[0] as number[]);
    return [
      `${lineCount.toLocaleString('en-US')} rows per run in INSERTs of up to 50,000 rows, ${rounds} rounds interleaved, medians; CPU of the whole process (chdb's threads included) until idle again (merges included).`,
      '',
      '| chdb (ClickHouse in-process), into | INSERT wall ms | CPU µs/row | vs before |',
      '|---|--:|--:|--:|',
      ...variants.map((v, i) => {
        const c = median(cpu[i] as number[]);
        return `| ${v.label} | ${median(wall[i] as number[]).toFixed(0)} | ${c.toFixed(2)} | ${(c / base).toFixed(2)}x |`;
      }),
    ].join('\n');
  } finally {
    for (const ch of dbs) await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
