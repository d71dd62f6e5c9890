/**
 * --compare previous|year on chdb, against plain-JS counts of the same
 * records: the previous period's value lands on the row it belongs to (a
 * shifted hour, day or month, or the same label), with the change in %.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { parseFilters } from '../../../src/report/filters.js';
import { runReport, UNKNOWN_LABEL, type ReportParams } from '../../../src/report/reports.js';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';
import { groupBy, numericRows } from '../../helpers/plain.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-compare-'));
let ch: EmbeddedClickHouse;
let recs: EnrichedRecord[];
const H = 3_600_000;
const D = 24 * H;
/** The sample again, a year (365 days: 2014 is no leap year) earlier, for --compare year. */
const yearBefore = (t: number) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear() - 1, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
};

beforeAll(async () => {
  const sample = await enrichLines(readLines(fixture('logs', 'elastic_apache.log')));
  // Last year: every third line of the sample, so the change is not 0.
  recs = [...sample, ...sample.filter((_, i) => i % 3 === 0).map((r) => ({ ...r, time: yearBefore(r.time) }))];
  ch = new EmbeddedClickHouse({ dir, database: uniqueName('compare') });
  await migrate(ch);
  await insertRecords(ch, recs, 3000, 'a');
}, 120_000);

afterAll(async () => {
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = async (name: string, p: ReportParams) => {
  const r = await runReport(ch, name, { limit: 1000, ...p });
  return { ...r, rows: numericRows(r.rows) };
};
const count = (from: number, to: number, pred: (r: EnrichedRecord) => boolean = () => true) =>
  recs.filter((r) => r.time >= from && r.time < to && pred(r)).length;
const pct = (now: number, old: number) => (old === 0 ? null : Math.round((1000 * (now - old)) / old) / 10);

describe('--compare', () => {
  it('previous, per day: each day gains the day the range length before it', async () => {
    const from = Date.UTC(2015, 4, 19);
    const r = await run('traffic-daily', { from, to: from + 2 * D, compare: 'previous' });
    expect(r.compare).toEqual({ mode: 'previous', from: from - 2 * D, to: from });
    expect(r.columns.slice(0, 7)).toEqual(['day', 'hits', 'hits_prev', 'hits_change_pct', 'visitors', 'visitors_prev', 'visitors_change_pct']);
    expect(r.rows.map((x) => [x.day, x.hits, x.hits_prev, x.hits_change_pct])).toEqual(
      [0, 1].map((i) => {
        const now = count(from + i * D, from + (i + 1) * D);
        const old = count(from + (i - 2) * D, from + (i - 1) * D);
        return [new Date(from + i * D).toISOString().slice(0, 10), now, old, pct(now, old)];
      }),
    );
  });

  it('previous, per hour, off the hour: hour H gains hour H minus the range length', async () => {
    const from = Date.UTC(2015, 4, 18, 10, 30);
    const r = await run('traffic-hourly', { from, to: from + 4 * H, compare: 'previous' });
    // Rollup reports read whole hours: 10:00 to 14:59 now, 06:00 to 10:59 before.
    expect(r.rows.map((x) => [x.hour, x.hits, x.hits_prev])).toEqual(
      [0, 1, 2, 3, 4].map((i) => {
        const h = Date.UTC(2015, 4, 18, 10 + i);
        return [new Date(h).toISOString().replace('T', ' ').slice(0, 19), count(h, h + H), count(h - 4 * H, h - 3 * H)];
      }),
    );
  });

  it('year, per month: May 2015 against May 2014', async () => {
    const r = await run('traffic-monthly', { from: Date.UTC(2015, 4, 1), to: Date.UTC(2015, 5, 1), compare: 'year' });
    const now = count(Date.UTC(2015, 4, 1), Date.UTC(2015, 5, 1));
    const old = count(Date.UTC(2014, 4, 1), Date.UTC(2014, 5, 1));
    expect(old).toBeGreaterThan(0);
    expect(r.rows.map((x) => [x.month, x.hits, x.hits_prev, x.hits_change_pct])).toEqual([['2015-05-01', now, old, pct(now, old)]]);
  });

  it('labels: each country gains its own previous count, with filters applied to both periods', async () => {
    const from = Date.UTC(2015, 4, 19);
    const where = parseFilters(['status!=200']);
    const r = await run('countries', { from, to: from + D, compare: 'previous', where });
    const inDay = (lo: number) =>
      groupBy(
        recs.filter((x) => x.time >= lo && x.time < lo + D && x.status !== 200),
        (x) => x.country || UNKNOWN_LABEL,
      );
    const now = inDay(from);
    const before = inDay(from - D);
    expect(r.rows.length).toBe(now.size);
    for (const row of r.rows) {
      const n = now.get(row.country as string)?.length ?? 0;
      const o = before.get(row.country as string)?.length;
      expect(row, String(row.country)).toMatchObject({ hits: n, hits_prev: o ?? null, hits_change_pct: o === undefined ? null : pct(n, o) });
    }
    expect(r.rows.some((x) => x.hits_prev === null)).toBe(true); // a country only seen on the 19th
  });

  it("top-pages with a small limit still finds each page's previous count", async () => {
    const from = Date.UTC(2015, 4, 19);
    const r = await run('top-pages', { from, to: from + D, compare: 'previous', limit: 3 });
    expect(r.rows).toHaveLength(3);
    for (const row of r.rows) expect(row.hits_prev).toBe(count(from - D, from, (x) => x.path === row.path) || null);
  });

  it('refuses what it cannot do, saying why', async () => {
    await expect(run('countries', { compare: 'previous' })).rejects.toThrow('--compare needs a range: give --from and --to');
    await expect(run('status', { from: 0, to: D, compare: 'previous' })).rejects.toThrow(
      /the status report has no --compare; reports that have: countries, referrers, top-pages, traffic-daily/,
    );
  });
});
