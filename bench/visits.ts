/**
 * Question: how long do the visits reports (window functions over the raw
 * rows) take for a day, a week and a month of a busy site? On chdb, the
 * 10k-line real sample (4 days) replicated to --lines rows packed into 32
 * days (about 300 k rows a day at 10 M), each replica with its own visitors.
 * Baseline in the same run: `status`, a plain GROUP BY over the same raw rows
 * and range.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEnricher } from '../src/enrich/index.js';
import { createParser } from '../src/parse/scan.js';
import { runReport } from '../src/report/reports.js';
import { migrate } from '../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../src/sink/clickhouse/embedded.js';
import { accessLogRow } from '../src/sink/rows.js';
import { medianMs } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DAY = 86_400_000;

export async function benchVisits(rows: number): Promise<string> {
  const lines = readFileSync(path.join(root, 'data/sample/elastic_apache.log'), 'utf8').split('\n').filter(Boolean);
  const parse = createParser();
  const enricher = await createEnricher();
  const recs = lines.flatMap((l) => {
    const r = parse(l);
    return r.ok ? [{ ...enricher.enrich(r.record) }] : [];
  });
  const start = Math.min(...recs.map((r) => r.time));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-bench-visits-'));
  const ch = new EmbeddedClickHouse({ dir, database: 'visits' });
  try {
    await migrate(ch);
    const t0 = performance.now();
    const chunk = 100_000;
    for (let c = 0; c * chunk < rows; c++) {
      const part: string[] = [];
      for (let i = c * chunk; i < Math.min(rows, (c + 1) * chunk); i++) {
        const k = Math.floor(i / recs.length);
        const r = recs[i % recs.length]!;
        // Replica k: shifted by (k mod 8) x 4 days, its visitors its own.
        const visitor = ((BigInt(r.visitor_id) + BigInt(k) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn).toString();
        part.push(
          accessLogRow(
            { ...r, time: r.time + (k % 8) * 4 * DAY, visitor_id: visitor },
            { source: 'bench', sourceOffset: i, topic: 'bench', partition: 0, offset: i, line: 0 },
          ),
        );
      }
      await ch.insertJson('access_log', part.join('\n'));
      if (rows >= 1_000_000 && c % 10 === 9)
        process.stderr.write(`\rinserted ${((c + 1) * chunk).toLocaleString('en-US')} of ${rows.toLocaleString('en-US')} rows`);
    }
    if (rows >= 1_000_000) process.stderr.write('\n');
    const loadS = (performance.now() - t0) / 1000;
    const day0 = Math.floor(start / DAY) * DAY + DAY; // the sample's first whole day
    const ranges = { day: { from: day0, to: day0 + DAY }, week: { from: day0, to: day0 + 7 * DAY }, month: { from: day0, to: day0 + 30 * DAY } };
    const out = [
      `${rows.toLocaleString('en-US')} rows in 32 days (loaded into chdb with the rollup views in ${loadS.toFixed(0)} s); median of 3 runs after a warm-up`,
      '',
      '| range | rows in range | status (plain GROUP BY, baseline) ms | visits ms | entry-pages ms | exit-pages ms | visit-flow ms | visits vs baseline |',
      '|---|--:|--:|--:|--:|--:|--:|--:|',
    ];
    for (const [name, range] of Object.entries(ranges)) {
      const [n] = await ch.query<{ c: string | number }>(
        `SELECT count() AS c FROM access_log WHERE time >= fromUnixTimestamp64Milli(toInt64(${range.from}), 'UTC') AND time < fromUnixTimestamp64Milli(toInt64(${range.to}), 'UTC')`,
      );
      const ms: Record<string, number> = {};
      for (const report of ['status', 'visits', 'entry-pages', 'exit-pages', 'visit-flow']) ms[report] = await medianMs(() => runReport(ch, report, range), 3);
      out.push(
        `| ${name} | ${Number(n?.c ?? 0).toLocaleString('en-US')} | ${ms.status!.toFixed(0)} | ${ms.visits!.toFixed(0)} | ${ms['entry-pages']!.toFixed(0)} | ${ms['exit-pages']!.toFixed(0)} | ${ms['visit-flow']!.toFixed(0)} | ${(ms.visits! / ms.status!).toFixed(1)}x |`,
      );
    }
    return out.join('\n');
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
