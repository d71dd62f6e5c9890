/**
 * The reports added for the dashboard (clients, visit times, virtual hosts,
 * regions, cities, ASNs, rejects, static files, 95th-percentile bandwidth,
 * bot names, bot pages) on chdb, against numbers computed in plain JS over
 * the same enriched records: the Elastic Apache sample as site "a", the
 * basjes sample as "b", and seeded lines with virtual hosts and ASN-database
 * addresses as site "c".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnricher, type EnrichedRecord } from '../../../src/enrich/index.js';
import { createParser } from '../../../src/parse/scan.js';
import { loadReport, runReport, UNKNOWN_LABEL, type ReportParams } from '../../../src/report/reports.js';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';
import { chRound, groupBy } from '../../helpers/plain.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-reports-more-'));
let ch: EmbeddedClickHouse;
let a: EnrichedRecord[];
let b: EnrichedRecord[];
let c: EnrichedRecord[];
let all: EnrichedRecord[];

type Rec = EnrichedRecord;
const run = async (name: string, p: ReportParams = {}) => (await runReport(ch, name, { limit: 1000, ...p })).rows;
const label = (v: string) => (v === '' ? UNKNOWN_LABEL : v);
const group = <K extends string | number>(recs: Rec[], key: (r: Rec) => K): [K, Rec[]][] => [...groupBy(recs, key)];
const distinct = (recs: Rec[], f: (r: Rec) => unknown = (r) => r.visitor_id) => new Set(recs.map(f)).size;
const sum = (recs: Rec[], f: (r: Rec) => number) => recs.reduce((s, r) => s + f(r), 0);
const cmp = (x: string | number, y: string | number) => (x < y ? -1 : x > y ? 1 : 0);
const round = chRound;
const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const share = (n: number, total: number) => round((100 * n) / total, 2);

/** Seeded lines with a virtual host first, from addresses the ASN test database knows. */
function vhostLines(): string[] {
  let seed = 11;
  const rnd = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
  const hosts = ['www.example.com', 'shop.example.com', 'api.example.com', '-'];
  const ips = ['1.128.0.1', '1.128.0.9', '89.160.20.112', '12.81.92.7', '216.160.83.56', '10.1.2.3', '192.0.2.1'];
  return Array.from({ length: 600 }, (_, i) => {
    const t = `${String(10 + (i % 20)).padStart(2, '0')}/May/2015:${String(rnd(24)).padStart(2, '0')}:${String(rnd(60)).padStart(2, '0')}:07 +0000`;
    return `${hosts[rnd(4)]} ${ips[rnd(7)]} - - [${t}] "GET /p/${rnd(9)} HTTP/1.1" 200 ${100 + rnd(5000)} "-" "agent-${rnd(3)}"`;
  });
}

beforeAll(async () => {
  a = await enrichLines(readLines(fixture('logs', 'elastic_apache.log')));
  b = await enrichLines(readLines(fixture('logs', 'basjes_hackers.log')));
  const parse = createParser('$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"');
  const enricher = await createEnricher({ geoip: fixture('maxmind', 'GeoLite2-City-Test.mmdb'), asn: fixture('maxmind', 'GeoLite2-ASN-Test.mmdb') });
  c = vhostLines().map((l) => {
    const r = parse(l);
    if (!r.ok) throw new Error(`seeded line did not parse: ${l}`);
    return enricher.enrich(r.record);
  });
  all = [...a, ...b, ...c];
  ch = new EmbeddedClickHouse({ dir, database: uniqueName('more') });
  await migrate(ch);
  await insertRecords(ch, a, 997, 'a');
  await insertRecords(ch, b, 997, 'b');
  await insertRecords(ch, c, 97, 'c');
}, 120_000);

afterAll(async () => {
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('more reports against plain-JS numbers', () => {
  it('the seeded site has virtual hosts and networks from the test databases', () => {
    expect(new Set(c.map((r) => r.vhost))).toEqual(new Set(['www.example.com', 'shop.example.com', 'api.example.com', '']));
    expect(c.some((r) => r.asn === 1221 && r.as_org === 'Telstra Pty Ltd')).toBe(true);
    expect(c.some((r) => r.asn === 0)).toBe(true);
  });

  it('traffic-daily: hits, visitors, bytes and bot hits per UTC day', async () => {
    const expected = group(all, (r) => new Date(r.time).toISOString().slice(0, 10))
      .sort((x, y) => cmp(x[0], y[0]))
      .map(([day, recs]) => ({
        day,
        hits: recs.length,
        visitors: distinct(recs),
        bytes: sum(recs, (r) => r.bytes),
        bot_hits: recs.filter((r) => r.is_bot).length,
      }));
    expect(await run('traffic-daily')).toEqual(expected);
  });

  it('top-ips: hits, visitors, bytes, country, first and last seen per client', async () => {
    const expected = group(all, (r) => r.remote_addr)
      .map(([client, recs]) => ({
        client: label(client),
        hits: recs.length,
        visitors: distinct(recs),
        bytes: sum(recs, (r) => r.bytes),
        country: label(recs.map((r) => r.country).sort()[0] as string),
        first_seen: utc(Math.min(...recs.map((r) => r.time))),
        last_seen: utc(Math.max(...recs.map((r) => r.time))),
      }))
      .sort((x, y) => y.hits - x.hits || cmp(x.client, y.client))
      .slice(0, 25);
    expect(await run('top-ips', { limit: 25 })).toEqual(expected);
  });

  it('visit-times: hits by UTC hour of day and weekday, every hour present', async () => {
    const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    const expected = Array.from({ length: 24 }, (_, h) => {
      const row: Record<string, number> = { hour_of_day: h, mon: 0, tue: 0, wed: 0, thu: 0, fri: 0, sat: 0, sun: 0, total: 0 };
      for (const r of all) {
        const d = new Date(r.time);
        if (d.getUTCHours() !== h) continue;
        row[days[d.getUTCDay()] as string] = (row[days[d.getUTCDay()] as string] as number) + 1;
        row.total = (row.total as number) + 1;
      }
      return row;
    });
    expect(await run('visit-times')).toEqual(expected);
    // One weekday only: the other columns are zero and the hours stay 24.
    const monday = await run('visit-times', { from: Date.UTC(2015, 4, 18), to: Date.UTC(2015, 4, 19) });
    expect(monday).toHaveLength(24);
    expect(monday.every((r) => r.tue === 0 && r.sun === 0 && r.mon === r.total)).toBe(true);
  });

  it('vhosts: hits, visitors, bytes and share per virtual host, (unknown) where the format logs none', async () => {
    const expected = group(all, (r) => r.vhost)
      .map(([vhost, recs]) => ({
        vhost: label(vhost),
        hits: recs.length,
        visitors: distinct(recs),
        bytes: sum(recs, (r) => r.bytes),
        share_pct: share(recs.length, all.length),
      }))
      .sort((x, y) => y.hits - x.hits || cmp(x.vhost, y.vhost));
    expect(await run('vhosts')).toEqual(expected);
    expect(expected.map((r) => r.vhost)).toContain(UNKNOWN_LABEL);
  });

  it('regions and cities', async () => {
    const regions = group(all, (r) => `${r.country}\u0000${r.region}`)
      .map(([, recs]) => ({
        country: label((recs[0] as Rec).country),
        region: label((recs[0] as Rec).region),
        hits: recs.length,
        visitors: distinct(recs),
        share_pct: share(recs.length, all.length),
        key: [(recs[0] as Rec).country, (recs[0] as Rec).region],
      }))
      .sort((x, y) => y.hits - x.hits || cmp(x.key[0] as string, y.key[0] as string) || cmp(x.key[1] as string, y.key[1] as string))
      .map(({ key: _key, ...r }) => r);
    expect(await run('regions')).toEqual(regions.slice(0, 1000));
    const cities = group(all, (r) => `${r.country}\u0000${r.region}\u0000${r.city}`)
      .map(([, recs]) => {
        const r0 = recs[0] as Rec;
        return {
          country: label(r0.country),
          region: label(r0.region),
          city: label(r0.city),
          hits: recs.length,
          visitors: distinct(recs),
          share_pct: share(recs.length, all.length),
          key: [r0.country, r0.region, r0.city],
        };
      })
      .sort(
        (x, y) =>
          y.hits - x.hits ||
          cmp(x.key[0] as string, y.key[0] as string) ||
          cmp(x.key[1] as string, y.key[1] as string) ||
          cmp(x.key[2] as string, y.key[2] as string),
      )
      .map(({ key: _key, ...r }) => r);
    expect(await run('cities', { limit: 50 })).toEqual(cities.slice(0, 50));
  });

  it('asns: per autonomous system, with the organisation from the ASN database', async () => {
    const expected = group(c, (r) => r.asn)
      .map(([asn, recs]) => ({
        asn,
        as_org: label((recs[0] as Rec).as_org),
        hits: recs.length,
        visitors: distinct(recs),
        bytes: sum(recs, (r) => r.bytes),
        share_pct: share(recs.length, c.length),
      }))
      .sort((x, y) => y.hits - x.hits || x.asn - y.asn);
    expect(expected.length).toBeGreaterThan(2);
    expect(await run('asns', { site: 'c' })).toEqual(expected);
  });

  it('static-files: static files against pages, by extension', async () => {
    const isStatic = (p: string) =>
      /\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|mp3|mp4|webm|ogg|wav|pdf|zip|gz|tgz|bz2|xz|7z|rar)$/i.test(p);
    const totalBytes = sum(all, (r) => r.bytes);
    const expected = group(all, (r) => (isStatic(r.path) ? 'static' : 'page'))
      .map(([kind, recs]) => ({
        kind,
        hits: recs.length,
        visitors: distinct(recs),
        bytes: sum(recs, (r) => r.bytes),
        hits_pct: share(recs.length, all.length),
        bytes_pct: share(
          sum(recs, (r) => r.bytes),
          totalBytes,
        ),
      }))
      .sort((x, y) => y.hits - x.hits || cmp(x.kind, y.kind));
    expect(await run('static-files')).toEqual(expected);
    expect(expected.map((r) => r.kind).sort()).toEqual(['page', 'static']);
  });

  it('bandwidth-p95: 5-minute rates, idle intervals as zero, top 5% dropped', async () => {
    const months = group(all, (r) => new Date(r.time).toISOString().slice(0, 7));
    const expected = months
      .map(([month, recs]) => {
        const byInterval = new Map<number, number>();
        for (const r of recs) {
          const k = Math.floor(r.time / 300_000);
          byInterval.set(k, (byInterval.get(k) ?? 0) + r.bytes);
        }
        const keys = [...byInterval.keys()];
        const samples = Math.max(...keys) - Math.min(...keys) + 1;
        const rates = [...byInterval.values()].map((bytes) => (bytes * 8) / 300);
        const sortedRates = [...rates, ...Array<number>(samples - rates.length).fill(0)].sort((x, y) => x - y);
        return {
          month: `${month}-01`,
          samples,
          busy_samples: byInterval.size,
          hits: recs.length,
          bytes: sum(recs, (r) => r.bytes),
          p95_mbps: round((sortedRates[Math.ceil(samples * 0.95) - 1] as number) / 1e6, 3),
          max_mbps: round(Math.max(...rates) / 1e6, 3),
          avg_mbps: round(rates.reduce((s, x) => s + x, 0) / samples / 1e6, 3),
        };
      })
      .sort((x, y) => cmp(x.month, y.month));
    const got = await run('bandwidth-p95');
    expect(got).toHaveLength(expected.length);
    for (const [i, e] of expected.entries()) {
      const g = got[i] as Record<string, number | string>;
      expect([g.month, g.samples, g.busy_samples, g.hits, g.bytes]).toEqual([e.month, e.samples, e.busy_samples, e.hits, e.bytes]);
      // Float sums in another order: equal to the last printed digit.
      for (const k of ['p95_mbps', 'max_mbps', 'avg_mbps'] as const)
        expect(Math.abs((g[k] as number) - e[k]), `${e.month} ${k}`).toBeLessThanOrEqual(0.0010001);
    }
    expect(expected.some((e) => e.samples > e.busy_samples)).toBe(true); // idle intervals were counted
  });

  it('bandwidth-p95 on rates far apart: which interval is billed, idle ones included', async () => {
    // 22 busy intervals of 1..22 MB in a span of 30 (8 idle): rates sorted
    // ascending are 8 zeros then 1..22 MB; the billed one is number
    // ceil(0.95 x 30) = 29, i.e. 21 MB per 5 minutes = 0.56 Mbit/s.
    const [rec] = await enrichLines(['198.51.100.1 - - [01/Jun/2015:00:00:00 +0000] "GET /big HTTP/1.1" 200 1 "-" "curl/8.0"']);
    const busy = [0, 1, 2, 4, 5, 7, 9, 10, 11, 12, 13, 15, 16, 17, 19, 20, 22, 24, 25, 26, 27, 29];
    const recs = busy.map((k, i) => ({ ...(rec as Rec), time: Date.UTC(2015, 5, 1) + k * 300_000 + 1000, bytes: (i + 1) * 1_000_000 }));
    const p = new EmbeddedClickHouse({ dir, database: uniqueName('p95') });
    try {
      await migrate(p);
      await insertRecords(p, recs, 5);
      expect((await runReport(p, 'bandwidth-p95')).rows).toEqual([
        {
          month: '2015-06-01',
          samples: 30,
          busy_samples: 22,
          hits: 22,
          bytes: 253e6,
          p95_mbps: round((21e6 * 8) / 300 / 1e6, 3),
          max_mbps: round((22e6 * 8) / 300 / 1e6, 3),
          avg_mbps: round((253e6 * 8) / 300 / 30 / 1e6, 3),
        },
      ]);
    } finally {
      await p.close();
    }
  });

  it('bot-names: crawler hits by a name taken from the user agent', async () => {
    const name = (r: Rec) => {
      const m = /([a-z0-9._-]*(?:bot|crawler|spider|slurp|fetcher|archiver)[a-z0-9._-]*)/i.exec(r.user_agent)?.[1] ?? '';
      if (m !== '') return m;
      if (r.browser !== '') return r.browser;
      return (/^([^/;()]+)/.exec(r.user_agent)?.[1] ?? '').trim();
    };
    const bots = all.filter((r) => r.is_bot);
    const expected = group(bots, name)
      .map(([bot, recs]) => ({
        bot: label(bot),
        hits: recs.length,
        clients: distinct(recs, (r) => r.remote_addr),
        bytes: sum(recs, (r) => r.bytes),
        last_seen: utc(Math.max(...recs.map((r) => r.time))),
      }))
      .sort((x, y) => y.hits - x.hits || cmp(x.bot, y.bot));
    const got = await run('bot-names');
    expect(got.map(({ user_agent: _ua, ...r }) => r)).toEqual(expected);
    expect(got.map((r) => r.bot)).toEqual(expect.arrayContaining(['Googlebot', 'bingbot', 'YandexBot', 'Baiduspider']));
    for (const r of got)
      expect(bots.some((x) => x.user_agent.startsWith(r.user_agent as string) && name(x) === (r.bot === UNKNOWN_LABEL ? '' : r.bot))).toBe(true);
  });

  it('bot-pages: bot hits per path from the pages rollup (pages_daily.bot_hits)', async () => {
    const expected = group(a, (r) => r.path)
      .map(([p, recs]) => {
        const botHits = recs.filter((r) => r.is_bot).length;
        return { path: p, bot_hits: botHits, hits: recs.length, bot_pct: round((100 * botHits) / recs.length, 1) };
      })
      .filter((r) => r.bot_hits > 0)
      .sort((x, y) => y.bot_hits - x.bot_hits || cmp(x.path, y.path))
      .slice(0, 40);
    expect(await run('bot-pages', { site: 'a', limit: 40 })).toEqual(expected);
  });

  it('rejects: lines by reason with the first example; the range is processing time', async () => {
    const rows = [
      { reason: 'parse_error', detail: 'no quote', line: 'first bad', received_at: '2026-01-02 03:04:05.000', kafka_offset: 5 },
      { reason: 'parse_error', detail: 'later', line: 'second bad', received_at: '2026-01-02 03:04:06.000', kafka_offset: 1 },
      { reason: 'empty_line', detail: 'empty', line: '', received_at: '2026-01-03 00:00:00.000', kafka_offset: 9 },
      { reason: 'parse_error', detail: 'same time, lower offset', line: 'third bad', received_at: '2026-01-02 03:04:06.000', kafka_offset: 0 },
    ];
    await ch.insertJson('rejects', rows.map((r) => JSON.stringify({ ...r, source: 's', source_offset: 0, kafka_topic: 't', kafka_partition: 0 })).join('\n'));
    expect(await run('rejects')).toEqual([
      {
        reason: 'parse_error',
        lines: 3,
        example_line: 'first bad',
        example_detail: 'no quote',
        first_at: '2026-01-02 03:04:05',
        last_at: '2026-01-02 03:04:06',
      },
      { reason: 'empty_line', lines: 1, example_line: '', example_detail: 'empty', first_at: '2026-01-03 00:00:00', last_at: '2026-01-03 00:00:00' },
    ]);
    expect(await run('rejects', { from: Date.UTC(2026, 0, 3) })).toEqual([expect.objectContaining({ reason: 'empty_line', lines: 1 })]);
  });
});

describe('report output', () => {
  it('counts are JSON numbers, not strings; integers beyond 2^53 stay exact as strings', async () => {
    const [row] = await run('traffic-monthly', { site: 'a' });
    expect(typeof row?.hits).toBe('number');
    expect(typeof row?.bytes).toBe('number');
    const big = await ch.queryTable('SELECT toUInt64(18446744073709551615) AS big, toUInt64(9007199254740991) AS safe');
    expect(big.columns).toEqual([
      { name: 'big', type: 'UInt64' },
      { name: 'safe', type: 'UInt64' },
    ]);
  });

  it('midnight hours keep their time; times are UTC whatever the zone of the machine', async () => {
    const rows = await run('traffic-hourly', { from: Date.UTC(2015, 4, 18), to: Date.UTC(2015, 4, 18, 2) });
    expect(rows.map((r) => r.hour)).toEqual(['2015-05-18 00:00:00', '2015-05-18 01:00:00']);
  });

  it('empty label values are (unknown), never "" or "-"', async () => {
    const browsers = await run('browsers');
    expect(browsers.map((r) => r.browser)).toContain(UNKNOWN_LABEL);
    expect(browsers.map((r) => r.browser)).not.toContain('');
  });

  it('every report documents each column it returns, in order', async () => {
    for (const name of [
      'top-ips',
      'visit-times',
      'vhosts',
      'regions',
      'cities',
      'asns',
      'rejects',
      'static-files',
      'bandwidth-p95',
      'bot-names',
      'bot-pages',
    ]) {
      const r = await runReport(ch, name, { limit: 5 });
      expect(
        loadReport(name).columns.map((col) => col.name),
        name,
      ).toEqual(r.columns);
    }
  });
});
