/**
 * The visits reports (visits, entry-pages, exit-pages, visit-flow) on chdb
 * against visits cut in plain JS from the same enriched records, and on the
 * edges of a range: a visit counts in the range it starts in, once, and is
 * followed past the range's end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { runReport, type ReportParams } from '../../../src/report/reports.js';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';
import { chRound, groupBy, numericRows } from '../../helpers/plain.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-visits-'));
let real: EmbeddedClickHouse;
let edges: EmbeddedClickHouse;
let a: EnrichedRecord[];
let b: EnrichedRecord[];

type Row = Record<string, unknown>;
const norm = numericRows;
const run = async (ch: EmbeddedClickHouse, name: string, p: ReportParams = {}) => norm((await runReport(ch, name, { limit: 1000, ...p })).rows);

// ---------------------------------------------------------------- visits in plain JS

const staticPath = /\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|mp3|mp4|webm|ogg|wav|pdf|zip|gz|tgz|bz2|xz|7z|rar)$/i;

interface Visit {
  visitor: string;
  views: EnrichedRecord[];
  started: number;
  ended: number;
}

/** Visits starting in [from, to): page views (no bots, no static files) of one visitor with pauses under `gapMs`. */
function visitsOf(recs: EnrichedRecord[], from: number, to: number, gapMs: number): Visit[] {
  const out: Visit[] = [];
  const pages = recs.filter((r) => !r.is_bot && !staticPath.test(r.path) && r.time >= from - gapMs && r.time < to + gapMs);
  for (const [visitor, views] of groupBy(pages, (r) => r.visitor_id)) {
    views.sort((x, y) => x.time - y.time || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    let cur: Visit | undefined;
    for (const v of views) {
      if (cur === undefined || v.time - cur.ended >= gapMs) out.push((cur = { visitor, views: [], started: v.time, ended: v.time }));
      cur.views.push(v);
      cur.ended = v.time;
    }
  }
  return out.filter((v) => v.started >= from && v.started < to);
}

/** quantileExact: the element at floor(level * n) of the sorted values. */
const quantileExact = (xs: number[], level: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(level * xs.length))] as number;
const byName = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const ALL = { from: Date.UTC(1970, 0, 1), to: Date.UTC(2106, 0, 1) };

function visitsReport(vs: Visit[]): Row[] {
  return [...groupBy(vs, (v) => dayOf(v.started))]
    .sort((x, y) => byName(x[0], y[0]))
    .map(([day, list]) => {
      const views = list.reduce((s, v) => s + v.views.length, 0);
      const durations = list.map((v) => (v.ended - v.started) / 1000);
      return {
        day,
        visits: list.length,
        page_views: views,
        pages_per_visit: chRound(views / list.length, 2),
        median_duration_s: chRound(quantileExact(durations, 0.5), 3),
        p90_duration_s: chRound(quantileExact(durations, 0.9), 3),
        bounce_rate_pct: chRound((100 * list.filter((v) => v.views.length === 1).length) / list.length, 2),
      };
    });
}

function entryPages(vs: Visit[]): Row[] {
  return [...groupBy(vs, (v) => (v.views[0] as EnrichedRecord).path)]
    .map(([p, list]) => ({ p, entries: list.length, bounces: list.filter((v) => v.views.length === 1).length }))
    .sort((x, y) => y.entries - x.entries || byName(x.p, y.p))
    .map((e) => ({
      path: e.p,
      entries: e.entries,
      entries_pct: chRound((100 * e.entries) / vs.length, 2),
      bounces: e.bounces,
      bounce_rate_pct: chRound((100 * e.bounces) / e.entries, 2),
    }));
}

function exitPages(vs: Visit[]): Row[] {
  const views = groupBy(
    vs.flatMap((v) => v.views),
    (r) => r.path,
  );
  return [...groupBy(vs, (v) => (v.views.at(-1) as EnrichedRecord).path)]
    .map(([p, list]) => ({ p, exits: list.length, views: (views.get(p) ?? []).length }))
    .sort((x, y) => y.exits - x.exits || byName(x.p, y.p))
    .map((e) => ({
      path: e.p,
      exits: e.exits,
      exits_pct: chRound((100 * e.exits) / vs.length, 2),
      page_views: e.views,
      exit_rate_pct: chRound((100 * e.exits) / e.views, 2),
    }));
}

function visitFlow(vs: Visit[]): Row[] {
  const pairs = new Map<string, { from: string; to: string; n: number; visits: Set<Visit> }>();
  for (const v of vs)
    for (let i = 0; i + 1 < v.views.length; i++) {
      const from = (v.views[i] as EnrichedRecord).path;
      const to = (v.views[i + 1] as EnrichedRecord).path;
      const k = `${from}\u0000${to}`;
      const e = pairs.get(k) ?? { from, to, n: 0, visits: new Set<Visit>() };
      e.n++;
      e.visits.add(v);
      pairs.set(k, e);
    }
  return [...pairs.values()]
    .sort((x, y) => y.n - x.n || byName(x.from, y.from) || byName(x.to, y.to))
    .map((e) => ({ from_path: e.from, to_path: e.to, transitions: e.n, visits: e.visits.size }));
}

// ---------------------------------------------------------------- seeded edges

const H = 3_600_000;
const M = 60_000;
const window = { from: Date.UTC(2015, 4, 18, 10), to: Date.UTC(2015, 4, 18, 14) };

/** Visitors placed around `window` (gap 30 minutes): what each tests is in its name. */
function edgeVisits(base: EnrichedRecord): EnrichedRecord[] {
  const { from, to } = window;
  const views: [string, number, string, Partial<EnrichedRecord>?][] = [
    ['started-before', from - 20 * M, '/b1'],
    ['started-before', from + 5 * M, '/b2'], // 25 minutes later: the same visit, which started before the range
    ['new-after-gap', from - 45 * M, '/g1'],
    ['new-after-gap', from + 5 * M, '/g2'], // 50 minutes later: a new visit, in the range
    ['exactly-gap', from - 30 * M, '/x1'],
    ['exactly-gap', from, '/x2'], // a pause of exactly the gap starts a new visit
    ['crosses-end', to - 5 * M, '/e1'],
    ['crosses-end', to + 10 * M, '/e2'],
    ['crosses-end', to + 25 * M, '/e3'], // followed past the end: 3 page views, 30 minutes
    ['at-end', to, '/z1'], // starts on the exclusive end: the next range's
    ['bot-and-static', from + M, '/bot', { is_bot: true }],
    ['bot-and-static', from + 2 * M, '/style.css'],
    ['bot-and-static', from + 3 * M, '/page'], // the only page view: a bounce entering on /page
  ];
  const ids = new Map<string, string>();
  const idOf = (name: string) => ids.get(name) ?? (ids.set(name, String(9000 + ids.size)).get(name) as string);
  return views.map(([visitor, time, p, extra]) => ({ ...base, visitor_id: idOf(visitor), time, path: p, is_bot: false, ...extra }));
}

beforeAll(async () => {
  a = await enrichLines(readLines(fixture('logs', 'elastic_apache.log')));
  b = await enrichLines(readLines(fixture('logs', 'basjes_hackers.log')));
  real = new EmbeddedClickHouse({ dir, database: uniqueName('visits') });
  edges = new EmbeddedClickHouse({ dir, database: uniqueName('vedges') });
  for (const ch of [real, edges]) await migrate(ch);
  await insertRecords(real, a, 997, 'a');
  await insertRecords(real, b, 997, 'b');
  const [human] = a.filter((r) => !r.is_bot);
  await insertRecords(edges, edgeVisits(human as EnrichedRecord), 100, 'a');
}, 120_000);

afterAll(async () => {
  for (const ch of [real, edges]) await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('visits reports against visits cut in plain JS', () => {
  const gap = 30 * M;

  it('visits per day: page views per visit, median and p90 duration, bounce rate', async () => {
    const expected = visitsReport(visitsOf(a, ALL.from, ALL.to, gap));
    expect(expected.length).toBeGreaterThan(2);
    expect(await run(real, 'visits', { site: 'a' })).toEqual(expected);
    expect(await run(real, 'visits')).toEqual(visitsReport(visitsOf([...a, ...b], ALL.from, ALL.to, gap)));
  });

  it('entry pages with bounce rates, exit pages with exit rates', async () => {
    const vs = visitsOf([...a, ...b], ALL.from, ALL.to, gap);
    expect(await run(real, 'entry-pages')).toEqual(entryPages(vs).slice(0, 1000));
    expect(await run(real, 'exit-pages')).toEqual(exitPages(vs).slice(0, 1000));
    expect(await run(real, 'entry-pages', { site: 'a', limit: 10 })).toEqual(entryPages(visitsOf(a, ALL.from, ALL.to, gap)).slice(0, 10));
  });

  it('visit flow: consecutive page views within visits', async () => {
    const vs = visitsOf(a, ALL.from, ALL.to, gap);
    const expected = visitFlow(vs).slice(0, 1000);
    expect(expected.length).toBeGreaterThan(10);
    expect(await run(real, 'visit-flow', { site: 'a' })).toEqual(expected);
  });

  it('a range and --visit-gap: visits starting in the range, cut at the given pause', async () => {
    const day = { from: Date.UTC(2015, 4, 18), to: Date.UTC(2015, 4, 19) };
    for (const minutes of [5, 30, 120]) {
      const vs = visitsOf(a, day.from, day.to, minutes * M);
      expect(await run(real, 'visits', { site: 'a', ...day, visitGap: minutes * 60 }), `gap ${minutes}`).toEqual(visitsReport(vs));
      expect(await run(real, 'entry-pages', { site: 'a', ...day, visitGap: minutes * 60 }), `gap ${minutes}`).toEqual(entryPages(vs));
    }
  });
});

describe('visits on the edges of a range', () => {
  it('a visit counts in the range it starts in, once; the pause of exactly the gap starts a new one', async () => {
    const inRange = await run(edges, 'entry-pages', window);
    expect(inRange.map((r) => r.path).sort()).toEqual(['/e1', '/g2', '/page', '/x2']);
    const before = await run(edges, 'entry-pages', { from: window.from - 24 * H, to: window.from });
    expect(before.map((r) => r.path).sort()).toEqual(['/b1', '/g1', '/x1']);
    const after = await run(edges, 'entry-pages', { from: window.to, to: window.to + 24 * H });
    expect(after.map((r) => r.path)).toEqual(['/z1']);
    // Every visit once over the three ranges, and once all time.
    const all = await run(edges, 'entry-pages');
    expect(all.length).toBe(inRange.length + before.length + after.length);
  });

  it('a visit crossing the end of the range keeps its page views after the end', async () => {
    const [day] = await run(edges, 'visits', window);
    // /g2, /x2 and /page are one page each; /e1 -> /e2 -> /e3 runs 30 minutes past the end.
    expect(day).toEqual({
      day: '2015-05-18',
      visits: 4,
      page_views: 6,
      pages_per_visit: 1.5,
      median_duration_s: 0,
      p90_duration_s: 1800,
      bounce_rate_pct: 75,
    });
    expect(await run(edges, 'visit-flow', window)).toEqual([
      { from_path: '/e1', to_path: '/e2', transitions: 1, visits: 1 },
      { from_path: '/e2', to_path: '/e3', transitions: 1, visits: 1 },
    ]);
  });
});
