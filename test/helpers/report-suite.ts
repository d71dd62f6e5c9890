/**
 * Every report over real data and over rows placed on the edges of report
 * windows, on chdb, as plain JSON: run in this process and in child
 * processes with other time zones (TZ), whose outputs must be identical.
 */
import type { EnrichedRecord } from '../../src/enrich/index.js';
import { listReports, runReport } from '../../src/report/reports.js';
import { migrate } from '../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../src/sink/clickhouse/embedded.js';
import type { ClickHouse } from '../../src/sink/clickhouse/types.js';
import { fixture, readLines } from './datasets.js';
import { enrichLines, insertRecords } from './load.js';
import { numericRows } from './plain.js';

export type Row = Record<string, unknown>;

/** Report windows [from, to), epoch ms: on and off hour, day and month boundaries. */
export const windows = {
  day: { from: Date.UTC(2015, 4, 18), to: Date.UTC(2015, 4, 19) },
  hours: { from: Date.UTC(2015, 4, 18, 10), to: Date.UTC(2015, 4, 18, 14) },
  offHour: { from: Date.UTC(2015, 4, 18, 10, 30), to: Date.UTC(2015, 4, 18, 14, 30) },
  month: { from: Date.UTC(2015, 4, 1), to: Date.UTC(2015, 5, 1) },
} as const;
export type WindowName = keyof typeof windows;

/** Row times of a window's edge database: just outside, on and just inside each edge, and further out. */
export function edgeTimes(w: { from: number; to: number }): number[] {
  const h = 3_600_000;
  return [w.from - 40 * 24 * h, w.from - 2 * h, w.from - 1, w.from, w.from + 1, w.to - 1, w.to, w.to + 1, w.to + 2 * h, w.to + 40 * 24 * h];
}

const fmt = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time';
const template =
  '203.0.113.7 - - [18/May/2015:10:00:00 +0000] "GET /edge HTTP/1.1" 404 512 "https://example.org/from" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" 0.120';

export async function edgeRecords(w: { from: number; to: number }): Promise<EnrichedRecord[]> {
  const [rec] = await enrichLines([template], fmt);
  return edgeTimes(w).map((time) => ({ ...(rec as EnrichedRecord), time }));
}

const norm = numericRows;

/** Opens a database of that name on some ClickHouse (created by migrate), and drops it again. */
export interface SuiteTarget {
  open(database: string): Promise<ClickHouse>;
  drop(ch: ClickHouse): Promise<void>;
}

/** chdb in `dir` (its databases go with the folder). */
export const chdbTarget = (dir: string): SuiteTarget => ({ open: async (database) => new EmbeddedClickHouse({ dir, database }), drop: async () => {} });

/** All reports over the samples (all time), and each report over each window's edge rows. */
export async function runReportSuite(target: SuiteTarget, database: string): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  const names = listReports().map((r) => r.name);
  const real = await target.open(`${database}_real`);
  try {
    await migrate(real);
    await insertRecords(real, await enrichLines(readLines(fixture('logs', 'elastic_apache.log'))), 5000, 'a');
    await insertRecords(real, await enrichLines(readLines(fixture('logs', 'basjes_hackers.log'))), 5000, 'b');
    for (const name of names) out[name] = norm((await runReport(real, name, { limit: 1000 })).rows);
    out['status@may18'] = norm((await runReport(real, 'status', windows.day)).rows);
  } finally {
    await target.drop(real);
    await real.close();
  }
  for (const [wname, w] of Object.entries(windows)) {
    const ch = await target.open(`${database}_${wname}`);
    try {
      await migrate(ch);
      await insertRecords(ch, await edgeRecords(w));
      for (const name of names) out[`${name}@${wname}`] = norm((await runReport(ch, name, { ...w, limit: 1000 })).rows);
    } finally {
      await target.drop(ch);
      await ch.close();
    }
  }
  return out;
}
