/**
 * Report windows and time zones, on chdb. Rows sit on the edges of each
 * window (from − 1 ms, from, to − 1 ms, to, ...); each report must count
 * exactly those its granularity takes: raw reports [from, to), rollups from
 * the start of from's hour/day/month up to the end of to's. And the machine's
 * time zone must change nothing: the same suite run in child processes with
 * TZ set gives the same output to the byte.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listReports } from '../../../src/report/reports.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { currentTarget } from '../../helpers/clickhouse.js';
import { repoRoot } from '../../helpers/datasets.js';
import { uniqueName } from '../../helpers/names.js';
import { chdbTarget, edgeTimes, runReportSuite, windows, type Row, type WindowName } from '../../helpers/report-suite.js';

type Granularity = 'raw' | 'hour' | 'day' | 'month' | 'own';
/**
 * What each report's SQL reads: the raw table, or a rollup by hour, day or month. 'own': rows the edge rows (a
 * search bot's 404s) are not, visits or AI crawlers say; their edges are tested in visits.test.ts and bots.test.ts.
 */
const granularity: Record<string, Granularity> = {
  status: 'raw',
  referrers: 'raw',
  'top-ips': 'raw',
  vhosts: 'raw',
  regions: 'raw',
  cities: 'raw',
  asns: 'raw',
  'bandwidth-p95': 'raw',
  'bot-names': 'raw',
  'visit-times': 'hour',
  'static-files': 'day',
  'bot-pages': 'day',
  bandwidth: 'hour',
  bots: 'hour',
  browsers: 'hour',
  countries: 'hour',
  devices: 'hour',
  errors: 'hour',
  os: 'hour',
  'response-time': 'hour',
  'traffic-hourly': 'hour',
  'traffic-daily': 'hour',
  visitors: 'hour',
  'not-found': 'day',
  'top-pages': 'day',
  'top-pages-daily': 'day',
  'traffic-monthly': 'month',
  visits: 'own',
  'entry-pages': 'own',
  'exit-pages': 'own',
  'visit-flow': 'own',
  'ai-crawlers': 'own',
  scanners: 'own',
  'bot-categories': 'raw',
  impostors: 'raw', // the edge rows claim Googlebot from 203.0.113.7: impostors all
};

function floorTo(t: number, g: Granularity): number {
  const d = new Date(t);
  if (g === 'raw' || g === 'own') return t;
  if (g === 'hour') return Math.floor(t / 3_600_000) * 3_600_000;
  if (g === 'day') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}
function ceilTo(t: number, g: Granularity): number {
  const f = floorTo(t, g);
  if (f === t || g === 'raw') return t;
  const d = new Date(f);
  if (g === 'hour') return f + 3_600_000;
  if (g === 'day') return f + 86_400_000;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Rows counted by a report: its hits, its total (visit-times), or (bandwidth, which shows none) its bytes over the 512 of each edge row. */
const hits = (rows: Row[] | undefined) =>
  (rows ?? []).reduce((s, r) => s + ('hits' in r ? Number(r.hits) : 'total' in r ? Number(r.total) : Number(r.bytes) / 512), 0);

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-windows-'));
let out: Record<string, Row[]>;
beforeAll(async () => {
  out = await runReportSuite(chdbTarget(dir), uniqueName('win'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Reports whose range is not the log's time (rejects: when weblog processed the line); their windows are tested with them. */
const processingTime = new Set(['rejects']);
const names = listReports()
  .map((r) => r.name)
  .filter((n) => !processingTime.has(n));

describe('report windows: rows on the edges', () => {
  it('every report has a known granularity', () => {
    expect(names.filter((n) => !(n in granularity))).toEqual([]);
  });

  const cases = names.filter((name) => granularity[name] !== 'own').flatMap((name) => (Object.keys(windows) as WindowName[]).map((w) => [name, w] as const));
  it.each(cases)('%s over window %s counts exactly the rows its granularity takes', (name, w) => {
    const g = granularity[name] as Granularity;
    const { from, to } = windows[w];
    const lo = floorTo(from, g);
    const hi = ceilTo(to, g);
    const expected = edgeTimes(windows[w]).filter((t) => t >= lo && t < hi).length;
    expect(expected).toBeGreaterThan(0);
    expect(hits(out[`${name}@${w}`]), `${name} ${new Date(from).toISOString()} .. ${new Date(to).toISOString()}`).toBe(expected);
  });
});

function suiteUnder(tz: string): Promise<{ tz: string; offsetMinutes: number; out: Record<string, Row[]> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'helpers', 'report-suite-main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, TZ: tz },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout) as { tz: string; offsetMinutes: number; out: Record<string, Row[]> })
        : reject(new Error(`TZ=${tz}: exit ${code}: ${stderr.slice(-2000)}`)),
    );
  });
}

describe('the current ClickHouse server over HTTP', () => {
  it('every report, all time and every window, equals chdb output', async () => {
    const { url } = currentTarget();
    const http = await runReportSuite(
      {
        open: async (database) => {
          const ch = new HttpClickHouse({ url, database });
          await ch.createDatabase();
          return ch;
        },
        drop: (ch) => ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`),
      },
      uniqueName('winhttp'),
    );
    expect(Object.keys(http).sort()).toEqual(Object.keys(out).sort());
    for (const key of Object.keys(out)) expect(http[key], key).toEqual(out[key]);
    expect((http.countries ?? []).length).toBeGreaterThan(10);
  }, 180_000);
});

describe('the machine time zone changes no report', () => {
  const zones = ['UTC', 'Europe/Berlin', 'Asia/Tokyo', 'America/St_Johns'] as const;
  let runs: Awaited<ReturnType<typeof suiteUnder>>[];
  beforeAll(async () => {
    runs = await Promise.all(zones.map((tz) => suiteUnder(tz)));
  }, 240_000);

  it.each(zones.map((z, i) => [z, i] as const))('TZ=%s: every report, all time and every window, equals this process output', (tz, i) => {
    const run = runs[i] as Awaited<ReturnType<typeof suiteUnder>>;
    expect(run.tz).toBe(tz);
    if (tz !== 'UTC') expect(run.offsetMinutes).not.toBe(0); // the zone really applied
    expect(Object.keys(run.out).sort()).toEqual(Object.keys(out).sort());
    for (const key of Object.keys(out)) expect(run.out[key], key).toEqual(out[key]);
    expect((run.out.countries ?? []).length).toBeGreaterThan(10);
    expect(hits(run.out['status@may18'])).toBeGreaterThan(1000);
  });
});
