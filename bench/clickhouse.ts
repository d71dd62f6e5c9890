/**
 * Question: what do the materialized-view rollups cost at insert time, what
 * does a row take on disk, and how much faster are the reports on the
 * rollups than the same questions asked of the raw table? On chdb (the
 * current ClickHouse engine), the 10k-line real sample replicated to --rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEnricher } from '../src/enrich/index.js';
import { createParser } from '../src/parse/scan.js';
import { listReports, runReport } from '../src/report/reports.js';
import { migrate } from '../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../src/sink/clickhouse/embedded.js';
import { accessLogRow } from '../src/sink/rows.js';
import { medianMs } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The same questions as some rollup reports, asked of access_log. */
const rawEquivalents: Record<string, string> = {
  'traffic-hourly':
    'SELECT toStartOfHour(time) AS hour, count() AS hits, uniqCombined(visitor_id) AS visitors, sum(bytes) AS bytes FROM access_log GROUP BY hour ORDER BY hour',
  'traffic-monthly': 'SELECT toStartOfMonth(time) AS m, count(), uniqCombined(visitor_id), sum(bytes) FROM access_log GROUP BY m ORDER BY m',
  countries: 'SELECT country, count() AS hits, uniqCombined(visitor_id) FROM access_log GROUP BY country ORDER BY hits DESC LIMIT 20',
  browsers: 'SELECT browser, count() AS hits, uniqCombined(visitor_id) FROM access_log GROUP BY browser ORDER BY hits DESC LIMIT 20',
  'top-pages': 'SELECT path, count() AS hits, uniqCombined(visitor_id), sum(bytes) FROM access_log GROUP BY path ORDER BY hits DESC LIMIT 20',
  'not-found': 'SELECT path, countIf(status = 404) AS nf FROM access_log GROUP BY path HAVING nf > 0 ORDER BY nf DESC LIMIT 20',
  bots: 'SELECT toDate(time) AS d, count(), countIf(is_bot), uniqCombinedIf(visitor_id, NOT is_bot) FROM access_log GROUP BY d ORDER BY d',
  visitors: 'SELECT toDate(time) AS d, uniqCombined(visitor_id), count() FROM access_log GROUP BY d ORDER BY d',
};

export async function benchClickHouse(rows: number): Promise<string> {
  const lines = readFileSync(path.join(root, 'data/sample/elastic_apache.log'), 'utf8').split('\n').filter(Boolean);
  const parse = createParser();
  const enricher = await createEnricher();
  const recs = lines.flatMap((l) => {
    const r = parse(l);
    return r.ok ? [enricher.enrich(r.record)] : [];
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-bench-ch-'));
  const withViews = new EmbeddedClickHouse({ dir, database: 'with_views' });
  const noViews = new EmbeddedClickHouse({ dir, database: 'no_views' });
  await migrate(withViews);
  await migrate(noViews);
  for (const v of ['traffic_hourly_mv', 'traffic_monthly_mv', 'pages_daily_mv', 'top_hourly_mv']) await noViews.exec(`DROP VIEW ${v}`);
  const chunk = 100_000;
  const chunks: string[] = [];
  // Replicas shift in time by whole weeks so the rollups see more hours and days.
  for (let c = 0; c < Math.ceil(rows / chunk); c++) {
    const part: string[] = [];
    for (let i = c * chunk; i < Math.min(rows, (c + 1) * chunk); i++) {
      const r = recs[i % recs.length]!;
      const shifted = { ...r, time: r.time + Math.floor(i / recs.length) * 7 * 86_400_000 };
      part.push(accessLogRow(shifted, { source: 'bench', sourceOffset: i, topic: 'bench', partition: 0, offset: i, line: 0 }));
    }
    chunks.push(part.join('\n'));
  }
  const insert = async (ch: EmbeddedClickHouse) => {
    const t0 = performance.now();
    for (const c of chunks) await ch.insertJson('access_log', c);
    return (performance.now() - t0) / 1000;
  };
  const tNo = await insert(noViews);
  const tWith = await insert(withViews);
  for (const t of ['access_log', 'traffic_hourly', 'pages_daily']) await withViews.exec(`OPTIMIZE TABLE ${t} FINAL`);
  const [disk] = await withViews.query<{ b: string; r: string; u: string }>(
    "SELECT sum(data_compressed_bytes) AS b, sum(rows) AS r, sum(data_uncompressed_bytes) AS u FROM system.parts WHERE database = currentDatabase() AND table = 'access_log' AND active",
  );
  const bpr = Number(disk?.b) / Number(disk?.r);
  const out: string[] = [
    `| insert ${rows.toLocaleString('en-US')} rows into access_log (chdb) | seconds | rows/s | vs without views |`,
    '|---|---:|---:|---:|',
    `| without materialized views (baseline) | ${tNo.toFixed(2)} | ${Math.round(rows / tNo).toLocaleString('en-US')} | 1.00x |`,
    `| with the 4 rollup views | ${tWith.toFixed(2)} | ${Math.round(rows / tWith).toLocaleString('en-US')} | ${(tNo / tWith).toFixed(2)}x |`,
    '',
    `On disk: ${bpr.toFixed(1)} bytes/row compressed (${(Number(disk?.u) / Number(disk?.r)).toFixed(0)} bytes/row uncompressed) after OPTIMIZE FINAL.`,
    '',
    `| report on ${rows.toLocaleString('en-US')} rows | rollup ms | raw-table ms | speed-up |`,
    '|---|---:|---:|---:|',
  ];
  for (const r of listReports()) {
    const rollup = await medianMs(() => runReport(withViews, r.name));
    const rawSql = rawEquivalents[r.name];
    const raw = rawSql ? await medianMs(() => withViews.query(rawSql)) : undefined;
    out.push(
      `| ${r.name} | ${rollup.toFixed(1)} | ${raw === undefined ? (/FROM access_log/.test(r.sql) ? '(is a raw-table report)' : '(not measured)') : raw.toFixed(1)} | ${raw === undefined ? '' : `${(raw / rollup).toFixed(1)}x`} |`,
    );
  }
  await withViews.close();
  await noViews.close();
  rmSync(dir, { recursive: true, force: true });
  return out.join('\n');
}
