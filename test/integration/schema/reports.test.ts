/**
 * Reports on chdb (the real, current ClickHouse engine) against numbers
 * computed independently in plain JS over the same enriched records.
 * Real data: the Elastic Apache sample as site "a", the basjes sample as "b".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { listReports, runReport, UNKNOWN_LABEL, type ReportParams } from '../../../src/report/reports.js';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';
import { chRound, groupBy, numericRows } from '../../helpers/plain.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-reports-'));
let batched: EmbeddedClickHouse; // many small batches
let single: EmbeddedClickHouse; // one batch per site
let late: EmbeddedClickHouse; // two thirds first, the rest later (every hour gets late lines)
let a: EnrichedRecord[];
let b: EnrichedRecord[];
let all: EnrichedRecord[];

type Row = Record<string, unknown>;
const norm = numericRows;
const run = async (ch: EmbeddedClickHouse, name: string, p: ReportParams = {}) => norm((await runReport(ch, name, { limit: 1000, ...p })).rows);

const hourOf = (t: number) => new Date(Math.floor(t / 3_600_000) * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const group = <K extends string | number>(recs: EnrichedRecord[], key: (r: EnrichedRecord) => K) => groupBy(recs, key);
const distinct = (recs: EnrichedRecord[], pred: (r: EnrichedRecord) => boolean = () => true) => new Set(recs.filter(pred).map((r) => r.visitor_id)).size;
const sum = (recs: EnrichedRecord[], f: (r: EnrichedRecord) => number) => recs.reduce((s, r) => s + f(r), 0);
const round = chRound;
const sorted = <K extends string | number>(m: Map<K, EnrichedRecord[]>) => [...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1));

beforeAll(async () => {
  a = await enrichLines(readLines(fixture('logs', 'elastic_apache.log')));
  b = await enrichLines(readLines(fixture('logs', 'basjes_hackers.log')));
  all = [...a, ...b];
  batched = new EmbeddedClickHouse({ dir, database: uniqueName('batched') });
  single = new EmbeddedClickHouse({ dir, database: uniqueName('single') });
  late = new EmbeddedClickHouse({ dir, database: uniqueName('late') });
  for (const ch of [batched, single, late]) await migrate(ch);
  await insertRecords(batched, a, 97, 'a');
  await insertRecords(batched, b, 97, 'b');
  await insertRecords(single, a, a.length, 'a');
  await insertRecords(single, b, b.length, 'b');
  const early = (r: EnrichedRecord, i: number) => i % 3 !== 0;
  await insertRecords(late, a.filter(early), 1000, 'a');
  await insertRecords(late, b.filter(early), 1000, 'b');
  await insertRecords(
    late,
    a.filter((r, i) => !early(r, i)),
    500,
    'a',
  );
  await insertRecords(
    late,
    b.filter((r, i) => !early(r, i)),
    500,
    'b',
  );
}, 120_000);

afterAll(async () => {
  for (const ch of [batched, single, late]) await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('reports against plain-JS numbers', () => {
  it('raw table holds every accepted line, by site', async () => {
    expect(a).toHaveLength(9999);
    expect(b).toHaveLength(3456);
    expect(norm(await single.query('SELECT site, count() AS c FROM access_log GROUP BY site ORDER BY site'))).toEqual([
      { site: 'a', c: 9999 },
      { site: 'b', c: 3456 },
    ]);
  });

  it('traffic-hourly: hits, visitors, bytes, running total, change, 24h average', async () => {
    const hours = sorted(group(all, (r) => hourOf(r.time)));
    let running = 0;
    const expected = hours.map(([hour, recs], i) => {
      running += recs.length;
      const window = hours.slice(Math.max(0, i - 23), i + 1).map(([, rs]) => rs.length);
      return {
        hour,
        hits: recs.length,
        visitors: distinct(recs),
        bytes: sum(recs, (r) => r.bytes),
        running_hits: running,
        change: i === 0 ? null : recs.length - (hours[i - 1]?.[1].length ?? 0),
        avg_24h: round(window.reduce((s, x) => s + x, 0) / window.length, 1),
      };
    });
    expect(await run(single, 'traffic-hourly')).toEqual(expected);
  });

  it('traffic-monthly', async () => {
    const months = sorted(group(all, (r) => new Date(r.time).toISOString().slice(0, 7) + '-01'));
    const got = await run(single, 'traffic-monthly');
    expect(got.map((r) => [r.month, r.hits, r.visitors, r.bytes])).toEqual(
      months.map(([m, recs]) => [m, recs.length, distinct(recs), sum(recs, (r) => r.bytes)]),
    );
    expect(got[1]?.change_pct).toBe(round(100 * ((months[1]?.[1].length ?? 0) / (months[0]?.[1].length ?? 1) - 1), 1));
  });

  it('top-pages with rank, top-pages-daily with row_number, 404 paths', async () => {
    const pages = [...group(a, (r) => r.path)].map(([path, recs]) => ({ path, hits: recs.length, visitors: distinct(recs), bytes: sum(recs, (r) => r.bytes) }));
    pages.sort((x, y) => y.hits - x.hits || (x.path < y.path ? -1 : 1));
    const ranked = pages.slice(0, 20).map((p) => ({ rank: pages.findIndex((q) => q.hits === p.hits) + 1, ...p }));
    expect(await run(single, 'top-pages', { site: 'a', limit: 20 })).toEqual(ranked);

    const daily = sorted(group(a, (r) => dayOf(r.time))).flatMap(([day, recs]) =>
      [...group(recs, (r) => r.path)]
        .map(([path, rs]) => ({ day, path, hits: rs.length }))
        .sort((x, y) => y.hits - x.hits || (x.path < y.path ? -1 : 1))
        .slice(0, 5)
        .map((p, i) => ({ day: p.day, n: i + 1, path: p.path, hits: p.hits })),
    );
    expect(await run(single, 'top-pages-daily', { site: 'a' })).toEqual(daily);

    const nf = [...group(a, (r) => r.path)]
      .map(([path, recs]) => ({ path, not_found: recs.filter((r) => r.status === 404).length, hits: recs.length }))
      .filter((p) => p.not_found > 0)
      .sort((x, y) => y.not_found - x.not_found || (x.path < y.path ? -1 : 1));
    expect(await run(single, 'not-found', { site: 'a' })).toEqual(nf);
  });

  it.each([
    ['countries', 'country'],
    ['browsers', 'browser'],
    ['os', 'os'],
    ['devices', 'device_type'],
  ] as const)('%s: hits, visitors and share by %s', async (report, field) => {
    const total = all.length;
    const expected = [...group(all, (r) => r[field])]
      .sort((x, y) => y[1].length - x[1].length || (x[0] < y[0] ? -1 : 1))
      .map(([k, recs]) => ({
        [field]: k === '' ? UNKNOWN_LABEL : k,
        hits: recs.length,
        visitors: distinct(recs),
        share_pct: round((100 * recs.length) / total, 2),
      }));
    expect(await run(single, report)).toEqual(expected);
  });

  it('bots, errors, bandwidth and visitors per day', async () => {
    const days = sorted(group(all, (r) => dayOf(r.time)));
    expect(await run(single, 'bots')).toEqual(
      days.map(([day, recs]) => {
        const bots = recs.filter((r) => r.is_bot).length;
        return {
          day,
          hits: recs.length,
          bot_hits: bots,
          human_hits: recs.length - bots,
          bot_pct: round((100 * bots) / recs.length, 1),
          human_visitors: distinct(recs, (r) => !r.is_bot),
        };
      }),
    );
    expect(await run(single, 'errors')).toEqual(
      days.map(([day, recs]) => {
        const c4 = recs.filter((r) => r.status >= 400 && r.status < 500).length;
        const c5 = recs.filter((r) => r.status >= 500 && r.status < 600).length;
        return { day, hits: recs.length, client_errors: c4, server_errors: c5, error_pct: round((100 * (c4 + c5)) / recs.length, 2) };
      }),
    );
    const bw = await run(single, 'bandwidth');
    expect(bw.map((r) => [r.day, r.bytes])).toEqual(days.map(([day, recs]) => [day, sum(recs, (r) => r.bytes)]));
    expect(await run(single, 'visitors')).toEqual(
      days.map(([day, recs]) => ({ day, visitors: distinct(recs), human_visitors: distinct(recs, (r) => !r.is_bot), hits: recs.length })),
    );
  });

  it('status codes with share, from the raw table', async () => {
    const expected = [...group(all, (r) => r.status)]
      .map(([status, recs]) => ({ status, hits: recs.length, share_pct: round((100 * recs.length) / all.length, 2) }))
      .sort((x, y) => y.hits - x.hits || x.status - y.status);
    expect(await run(single, 'status')).toEqual(expected);
  });

  it('referrers: hits per referring host', async () => {
    const host = (u: string) => /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:?#]+)/i.exec(u)?.[1] ?? '';
    const withRef = a.filter((r) => r.referer !== '' && host(r.referer) !== '');
    const expected = [...group(withRef, (r) => host(r.referer))]
      .map(([referrer, recs]) => ({ referrer, hits: recs.length, visitors: distinct(recs) }))
      .sort((x, y) => y.hits - x.hits || (x.referrer < y.referrer ? -1 : 1))
      .slice(0, 10);
    expect(await run(single, 'referrers', { site: 'a', limit: 10 })).toEqual(expected);
  });

  it('--from / --to / --site narrow the range', async () => {
    const from = Date.UTC(2015, 4, 18);
    const to = Date.UTC(2015, 4, 19);
    const inRange = all.filter((r) => r.time >= from && r.time < to);
    const got = await run(single, 'status', { from, to });
    expect(got.reduce((s, r) => s + (r.hits as number), 0)).toBe(inRange.length);
    const bOnly = await run(single, 'countries', { site: 'b' });
    expect(bOnly.reduce((s, r) => s + (r.hits as number), 0)).toBe(b.length);
  });
});

describe('rollups stay exact however rows arrive', () => {
  const names = listReports().map((r) => r.name);
  it('many small batches, one batch, and late out-of-order lines give the same reports', async () => {
    expect(names.length).toBeGreaterThanOrEqual(15);
    for (const name of names) {
      const expected = await run(single, name);
      expect(await run(batched, name), `${name}: batched`).toEqual(expected);
      expect(await run(late, name), `${name}: late lines`).toEqual(expected);
    }
  });

  it('merging the parts (OPTIMIZE FINAL) changes no report', async () => {
    const before = await Promise.all(names.map((n) => run(batched, n)));
    const parts = norm(await batched.query("SELECT count() AS c FROM system.parts WHERE database = currentDatabase() AND table = 'traffic_hourly' AND active"));
    expect(parts[0]?.c as number).toBeGreaterThan(1); // unmerged: the FINAL-free queries above ran on many parts
    for (const t of ['access_log', 'traffic_hourly', 'traffic_monthly', 'pages_daily', 'top_hourly']) await batched.exec(`OPTIMIZE TABLE ${t} FINAL`);
    expect(await Promise.all(names.map((n) => run(batched, n)))).toEqual(before);
  });

  it('each rollup report equals the same question asked of the raw table', async () => {
    const raw = (sql: string) => single.query<Row>(sql).then(norm);
    expect(await run(single, 'traffic-hourly').then((rs) => rs.map((r) => [r.hour, r.hits, r.visitors, r.bytes]))).toEqual(
      (
        await raw(
          'SELECT toString(toStartOfHour(time)) AS hour, count() AS hits, uniqExact(visitor_id) AS visitors, sum(bytes) AS bytes FROM access_log GROUP BY hour ORDER BY hour',
        )
      ).map((r) => [r.hour, r.hits, r.visitors, r.bytes]),
    );
    expect(await run(single, 'countries').then((rs) => rs.map((r) => [r.country, r.hits, r.visitors]))).toEqual(
      (
        await raw(
          "SELECT if(country = '', '(unknown)', country) AS label, count() AS hits, uniqExact(visitor_id) AS visitors FROM access_log GROUP BY country, label ORDER BY hits DESC, country",
        )
      ).map((r) => [r.label, r.hits, r.visitors]),
    );
    expect(await run(single, 'not-found').then((rs) => rs.map((r) => [r.path, r.not_found]))).toEqual(
      (await raw('SELECT path, countIf(status = 404) AS nf FROM access_log GROUP BY path HAVING nf > 0 ORDER BY nf DESC, path LIMIT 1000')).map((r) => [
        r.path,
        r.nf,
      ]),
    );
  });
});

describe('response-time quantiles', () => {
  it('p50/p95/p99 from the t-digest rollup are close to the exact quantiles', async () => {
    let seed = 3;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const lines = Array.from({ length: 5000 }, (_, i) => {
      const t = (-Math.log(1 - rnd()) * 0.2).toFixed(3); // exponential, mean 200 ms
      const s = String(i % 60).padStart(2, '0');
      return `10.0.0.${i % 250} - - [20/May/2015:10:${s}:${s} +0000] "GET /api/${i % 7} HTTP/1.1" 200 123 "-" "curl/8.0" ${t}`;
    });
    const recs = await enrichLines(
      lines,
      '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time',
    );
    const ch = new EmbeddedClickHouse({ dir, database: uniqueName('rt') });
    await migrate(ch);
    await insertRecords(ch, recs, 700);
    const [row] = await run(ch, 'response-time');
    const times = recs.map((r) => r.request_time as number).sort((x, y) => x - y);
    const q = (p: number) => times[Math.floor(p * (times.length - 1))] as number;
    expect(row?.hits).toBe(5000);
    expect(row?.p50_s as number).toBeCloseTo(q(0.5), 1);
    expect(Math.abs((row?.p95_s as number) - q(0.95)) / q(0.95)).toBeLessThan(0.05);
    expect(Math.abs((row?.p99_s as number) - q(0.99)) / q(0.99)).toBeLessThan(0.05);
    await ch.close();
  });
});
