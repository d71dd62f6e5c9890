/**
 * Question: which row format costs least per row, client and server
 * together, when the processor inserts into ClickHouse over HTTP?
 * TabSeparated (text, escaped) against RowBinary (binary, fixed-width
 * numbers, length-prefixed strings, read through input() and converted to
 * the table's types by the server; its LowCardinality columns declared as
 * such, or as String and converted a block at a time),
 * into ClickHouse 18.16 (legacy schema) and the stack's current server
 * (26.7, modern schema), each into the real schema (table, codecs, rollup
 * views) and into a Null-engine table of the same columns (what parsing the
 * format alone costs the server). The same enriched rows (the Elastic
 * sample cycled to --lines) in INSERTs of up to 50,000 rows, as the
 * processor sends them; formats interleaved, --rounds rounds, medians.
 * Server CPU is read from /proc for the server process, until it is idle
 * again after the INSERTs (merges included).
 * Run: npm run bench -- insert-format [--lines 500000] [--rounds 3]
 */
import { migrate } from '../src/schema/migrate.js';
import { HttpClickHouse } from '../src/sink/clickhouse/http.js';
import type { RowFormat } from '../src/sink/clickhouse/types.js';
import { columnsOf, rowBinaryTypes, type Dialect } from '../src/sink/columns.js';
import { AccessLogRowWriter, accessLogColumns } from '../src/sink/rows.js';
import { stackPid, treeCpuSeconds } from './cpu.js';
import { idle, insertBodies, median, sampleRecords } from './sample-rows.js';
import { benchEndpoints } from './stack.js';

/** The formats compared; RowBinary is read through input() as the given types, then converted to the table's by the server. */
const formats: { label: string; format: RowFormat; lowCardinality?: 'kept' | 'as String' }[] = [
  { label: 'TabSeparated', format: 'TabSeparated' },
  { label: 'RowBinary, LowCardinality value by value', format: 'RowBinary', lowCardinality: 'kept' },
  { label: 'RowBinary, LowCardinality read as String (weblog)', format: 'RowBinary', lowCardinality: 'as String' },
];
const tables = ['real schema', 'Null table'] as const;

interface Cell {
  build: number[];
  send: number[];
  server: number[];
  bytes: number;
  refused?: string;
}

export async function benchInsertFormat(lineCount: number, rounds: number): Promise<string> {
  const e = await benchEndpoints();
  const recs = await sampleRecords();
  const targets = [
    { label: 'ClickHouse 18.16.1', url: e.clickhouseUrl, pid: stackPid('clickhouse'), dialect: 'legacy' as Dialect },
    { label: 'current server (26.7)', url: e.clickhouseCurrentUrl, pid: stackPid('clickhouse-current'), dialect: 'modern' as Dialect },
  ];
  const out: string[] = [
    '| server | table | format | build rows, client µs/row | send, client µs/row | server µs/row | total µs/row | server vs TabSeparated | bytes/row |',
    '|---|---|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const t of targets) {
    if (!t.url || !t.pid) {
      out.push(`| ${t.label} | not running | | | | | | | |`);
      continue;
    }
    const pid = t.pid;
    const dbs = new Map<string, HttpClickHouse>();
    for (const table of tables)
      for (const [fi, f] of formats.entries()) {
        const ch = new HttpClickHouse({ url: t.url, database: `bench_insert_${fi}_${table === 'Null table' ? 'null' : 'real'}_${process.pid}` });
        await ch.createDatabase();
        await migrate(ch);
        await ch.detect();
        if (table === 'Null table') {
          await ch.exec('RENAME TABLE access_log TO access_log_stored');
          await ch.exec('CREATE TABLE access_log AS access_log_stored ENGINE = Null');
        }
        dbs.set(`${table}/${f.label}`, ch);
      }
    const types = columnsOf(t.dialect).map((c) => c.type[t.dialect] as string);
    const typesOf = (lc: 'kept' | 'as String' | undefined) => (lc === 'as String' ? rowBinaryTypes(t.dialect) : types);
    const cells = new Map<string, Cell>();
    await idle(() => treeCpuSeconds(pid));
    for (let round = 0; round < rounds; round++)
      for (const table of tables)
        for (const f of formats) {
          const key = `${table}/${f.label}`;
          const cell = cells.get(key) ?? { build: [], send: [], server: [], bytes: 0 };
          cells.set(key, cell);
          if (cell.refused) continue;
          const ch = dbs.get(key) as HttpClickHouse;
          const writer = new AccessLogRowWriter({ format: f.format, dialect: t.dialect, timezone: ch.timezone });
          const c0 = process.cpuUsage();
          const bodies = insertBodies(writer, recs, lineCount, `r${round}`);
          const built = process.cpuUsage(c0);
          const s0 = treeCpuSeconds(pid);
          const c1 = process.cpuUsage();
          try {
            for (const body of bodies)
              await ch.insertRows(
                'access_log',
                accessLogColumns[t.dialect],
                body,
                f.format,
                f.format === 'RowBinary' ? { types: typesOf(f.lowCardinality) } : {},
              );
          } catch (err) {
            cell.refused = (err as Error).message.split('\n')[0]?.slice(0, 160);
            continue;
          }
          const sent = process.cpuUsage(c1);
          await idle(() => treeCpuSeconds(pid));
          const s1 = treeCpuSeconds(pid);
          // A fresh table for the next run: merges of this run's parts only.
          for (const x of ['access_log', 'traffic_hourly', 'traffic_monthly', 'pages_daily', 'top_hourly'])
            await ch.exec(`TRUNCATE TABLE IF EXISTS ${x}`).catch(() => undefined);
          await idle(() => treeCpuSeconds(pid));
          cell.build.push((built.user + built.system) / lineCount);
          cell.send.push((sent.user + sent.system) / lineCount);
          cell.server.push(((s1 - s0) * 1e6) / lineCount);
          cell.bytes = bodies.reduce((a, b) => a + b.length, 0) / lineCount;
        }
    for (const table of tables) {
      const base = cells.get(`${table}/TabSeparated`);
      for (const f of formats) {
        const c = cells.get(`${table}/${f.label}`) as Cell;
        if (c.refused) {
          out.push(`| ${t.label} | ${table} | ${f.label} | refused: ${c.refused.replace(/\|/g, '/')} | | | | | |`);
          continue;
        }
        const [b, s, v] = [median(c.build), median(c.send), median(c.server)];
        const ratio = base && !base.refused ? `${(v / median(base.server)).toFixed(2)}x` : '';
        out.push(
          `| ${t.label} | ${table} | ${f.label} | ${b.toFixed(2)} | ${s.toFixed(2)} | ${v.toFixed(2)} | ${(b + s + v).toFixed(2)} | ${ratio} | ${c.bytes.toFixed(0)} |`,
        );
      }
    }
    for (const ch of dbs.values()) {
      await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
      await ch.close();
    }
  }
  return [
    `${lineCount.toLocaleString('en-US')} rows per run, INSERTs of up to 50,000 rows, ${rounds} rounds interleaved, medians; server CPU until idle again (merges included).`,
    '',
    ...out,
  ].join('\n');
}
