/**
 * Report filters (--where), on chdb and on the current ClickHouse server:
 * every report over all rows with a filter must equal the same report,
 * unfiltered, over a database holding only the rows the filter keeps (picked
 * in plain JS). That covers filters applied to the raw table, to a rollup's
 * own dimensions, and the raw fallback of a rollup that lacks the field.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { parseFilters } from '../../../src/report/filters.js';
import { listReports, runReport, type ReportParams } from '../../../src/report/reports.js';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import type { ClickHouse } from '../../../src/sink/clickhouse/types.js';
import { currentTarget } from '../../helpers/clickhouse.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';
import { numericRows } from '../../helpers/plain.js';

type Rec = EnrichedRecord & { site: string };

/** Filter texts and the same filters written independently as plain-JS predicates. */
const cases: { where: string[]; keep: (r: Rec) => boolean }[] = [
  { where: ['status=404'], keep: (r) => r.status === 404 },
  { where: ['status=4xx', 'status=5xx'], keep: (r) => r.status >= 400 && r.status < 600 },
  { where: ['country=us'], keep: (r) => r.country === 'US' },
  { where: ['is_bot=false', 'method!=get'], keep: (r) => !r.is_bot && r.method !== 'GET' },
  { where: ['path=/blog/*', 'site=a'], keep: (r) => r.path.startsWith('/blog/') && r.site === 'a' },
  { where: ['browser=Chrome', 'country!=(unknown)'], keep: (r) => r.browser === 'Chrome' && r.country !== '' },
];

const reports = listReports()
  .map((r) => r.name)
  .filter((n) => n !== 'rejects');
const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-filters-'));
let recs: Rec[];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const a = (await enrichLines(readLines(fixture('logs', 'elastic_apache.log')))).map((r) => ({ ...r, site: 'a' }));
  const b = (await enrichLines(readLines(fixture('logs', 'basjes_hackers.log')))).map((r) => ({ ...r, site: 'b' }));
  recs = [...a, ...b];
}, 60_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function load(ch: ClickHouse, rows: Rec[]): Promise<void> {
  await migrate(ch);
  for (const site of ['a', 'b'])
    await insertRecords(
      ch,
      rows.filter((r) => r.site === site),
      2000,
      site,
    );
}

const targets: { label: string; open: (name: string) => Promise<ClickHouse> }[] = [
  {
    label: 'chdb',
    open: async (name) => {
      const ch = new EmbeddedClickHouse({ dir, database: uniqueName(name) });
      cleanups.push(() => ch.close());
      return ch;
    },
  },
  {
    label: 'the current ClickHouse server',
    open: async (name) => {
      const ch = new HttpClickHouse({ url: currentTarget().url, database: uniqueName(name) });
      await ch.createDatabase();
      cleanups.push(async () => {
        await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
        await ch.close();
      });
      return ch;
    },
  },
];

describe.each(targets)('report filters on $label', ({ open }) => {
  let all: ClickHouse;
  beforeAll(async () => {
    all = await open('filters_all');
    await load(all, recs);
  }, 120_000);

  it.each(cases)(
    'every report with --where $where equals the report over only the rows it keeps',
    async ({ where, keep }) => {
      const kept = recs.filter(keep);
      expect(kept.length).toBeGreaterThan(10); // the sample has rows for each case
      expect(kept.length).toBeLessThan(recs.length);
      const sub = await open('filters_sub');
      await load(sub, kept);
      const filters = parseFilters(where);
      // All time, and a window off the hour and the day (rollups round it; the raw fallback must read the same rows).
      const ranges: ReportParams[] = [{}, { from: Date.UTC(2015, 4, 18, 10, 30), to: Date.UTC(2015, 4, 19, 14, 30) }];
      for (const range of ranges) {
        const params: ReportParams = { limit: 1000, ...range };
        for (const name of reports) {
          const got = await runReport(all, name, { ...params, where: filters });
          const want = await runReport(sub, name, params);
          expect({ name, range, rows: numericRows(got.rows) }).toEqual({ name, range, rows: numericRows(want.rows) });
          expect(got.filters?.applied).toHaveLength(where.length);
        }
      }
    },
    300_000,
  );

  it('a rollup takes filters on its own dimensions and says when it read the raw rows instead', async () => {
    const on = async (name: string, where: string[]) => (await runReport(all, name, { where: parseFilters(where) })).filters;
    expect(await on('countries', ['country=US', 'browser=Chrome'])).toEqual({ applied: ['country=US', 'browser=Chrome'], source: 'rollup', note: undefined });
    const fallback = await on('countries', ['status=5xx']);
    expect(fallback?.source).toBe('raw-for-rollup');
    expect(fallback?.note).toContain('traffic_hourly has no status');
    expect((await on('top-pages', ['path=/blog/*']))?.source).toBe('rollup');
    expect((await on('traffic-monthly', ['is_bot=true']))?.source).toBe('raw-for-rollup');
    expect((await on('referrers', ['referrer=www.google.com']))?.source).toBe('raw');
  });

  it('a filter value is bound, never spliced: quotes and SQL in it match nothing and break nothing', async () => {
    const hostile = ["path=/x' OR 1=1 --", "country=\\' OR ''='", "referrer=a'); DROP TABLE access_log; --"];
    for (const w of hostile) {
      const r = await runReport(all, 'top-pages', { where: parseFilters([w]) });
      expect(r.rows).toEqual([]);
    }
    expect(numericRows(await all.query('SELECT count() AS c FROM access_log'))).toEqual([{ c: recs.length }]);
  });

  it('the rejects report takes no filters, and says so', async () => {
    await expect(runReport(all, 'rejects', { where: parseFilters(['status=404']) })).rejects.toThrow(/the rejects report takes no filters/);
  });
});
