/**
 * The dashboard in a real headless Chromium: the HTML file `weblog run` and
 * `weblog report --html` write, the live page of `weblog serve` and of
 * `weblog run --follow --serve`, its JSON API. The numbers on the page must
 * equal the API's, the range picker must change them, rows inserted while
 * the page is open must appear, hostile log fields must stay text, and the
 * console must stay free of errors.
 */
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutReports } from '../../../src/dashboard/layout.js';
import { project } from '../../../src/dashboard/world.js';
import { startDashboardServer, type DashboardServer } from '../../../src/dashboard/server.js';
import type { ReportJson } from '../../../src/report/render.js';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { leastPrivilegeUsers } from '../../stack/clickhouse-current.js';
import { currentTarget, withUser } from '../../helpers/clickhouse.js';
import { launchBrowser, openPage, pageTables, paintedPixels } from '../../helpers/browser.js';
import { lastLine, weblog } from '../../helpers/cli.js';
import { fixture, readLines, repoRoot } from '../../helpers/datasets.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { tempDir, uniqueName } from '../../helpers/names.js';
import { waitUntil } from '../../helpers/wait.js';

const cleanups: (() => Promise<void>)[] = [];
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
  cleanups.push(() => browser.close());
}, 60_000);
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** Log lines whose fields try to run script in the page. */
const hostile = [
  '203.0.113.66 - - [18/May/2015:12:00:00 +0000] "GET /<img/src=x/onerror=window.__xss=1> HTTP/1.1" 404 10 "-" "Mozilla/5.0 (compatible; Evilbot/1.0)"',
  '203.0.113.66 - - [18/May/2015:12:00:01 +0000] "GET /</script><script>window.__xss=2</script> HTTP/1.1" 404 10 "https://evil.example/</script>" "</script><script>window.__xss=3</script>"',
];

async function getJson<T>(url: string): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}
const api = (base: string, name: string, q: Record<string, string> = {}) =>
  getJson<ReportJson>(`${base}api/reports/${name}?${new URLSearchParams(q).toString()}`);

/** The page's tables equal the API's rows, report by report, value by value. */
async function expectTablesEqualApi(page: Page, base: string, q: Record<string, string>): Promise<void> {
  const tables = await pageTables(page);
  expect(Object.keys(tables).sort()).toEqual([...layoutReports()].sort());
  for (const name of layoutReports()) {
    const { where: _, ...unfiltered } = q;
    const { body } = await api(base, name, name === 'rejects' ? unfiltered : q); // the rejects take no filters
    const t = tables[name] as { columns: string[]; values: string[][] };
    if (body.rows.length === 0) {
      expect(t.values, name).toEqual([]);
      continue;
    }
    expect(t.columns, name).toEqual(body.columns.map((c) => c.name));
    expect(t.values, name).toEqual(body.rows.map((row) => t.columns.map((c) => (row[c] === null ? '' : String(row[c])))));
  }
}

const card = (page: Page, id: string) => page.$eval(`[data-card="${id}"]`, (e) => Number(e.getAttribute('data-value')));
const sumOf = (r: ReportJson, col: string) => r.rows.reduce((s, row) => s + Number(row[col]), 0);

/** A CLI child that runs until stopped (weblog serve, weblog run --follow --serve); resolves its URL from stderr. */
function startCli(args: string[], cwd: string): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'weblog.js'), ...args], {
    cwd,
    env: { ...process.env, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.resume();
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return waitUntil(
    `a dashboard URL from weblog ${args[0]}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`weblog ${args.join(' ')} exited ${child.exitCode}: ${err}`);
      const m = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
      return m ? { child, url: m[1] as string, stderr: () => err } : undefined;
    },
    120_000,
  );
}

function stopCli(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('the HTML dashboard (weblog run, weblog report --html) and weblog serve', () => {
  let dir: string;
  let data: string;
  let serve: Awaited<ReturnType<typeof startCli>>;

  beforeAll(async () => {
    dir = tempDir('weblog-dash-', cleanups);
    data = path.join(dir, 'data');
    const log = path.join(dir, 'access.log');
    writeFileSync(log, [...readLines(fixture('logs', 'elastic_apache.log')), ...hostile].join('\n') + '\n');
    const run = await weblog(['run', '--source', `file://${log}`, '--embedded', data, '--no-reports'], {}, dir);
    expect(run.code, run.stderr).toBe(0);
    // npm start ends by writing the dashboard next to its data and saying where, and how to watch it live.
    const file = path.join(dir, 'weblog-dashboard.html');
    expect(run.stderr).toContain(`dashboard: ${file}\n`);
    expect(run.stderr).toContain(`npx weblog serve --embedded data\n`);
    expect(existsSync(file)).toBe(true);
    const day = await weblog(['report', '--html', path.join(dir, 'may18.html'), '--from', '2015-05-18', '--to', '2015-05-19', '--embedded', data], {}, dir);
    expect(day.code, day.stderr).toBe(0);
    expect(day.stderr).toContain(`dashboard written to ${path.join(dir, 'may18.html')}`);
    serve = await startCli(['serve', '--port', '0', '--refresh-ms', '1000', '--embedded', data], dir);
  }, 240_000);

  it('the file from weblog run renders the charts and every report, equal to the API, offline, with no console error', async () => {
    const html = readFileSync(path.join(dir, 'weblog-dashboard.html'), 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    const { page, problems } = await openPage(browser);
    // No network at view time: every request other than the file itself is refused.
    await page.setRequestInterception(true);
    const requested: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith('file://')) void r.continue();
      else {
        requested.push(r.url());
        void r.abort();
      }
    });
    await page.goto(`file://${path.join(dir, 'weblog-dashboard.html')}`);
    await page.waitForSelector('body[data-state="ready"]');
    expect(await paintedPixels(page, '[data-chart="traffic"]')).toBeGreaterThan(2000);
    expect(await paintedPixels(page, '[data-chart="errors"]')).toBeGreaterThan(1000);
    expect(await page.$eval('[data-chart="traffic"]', (e) => e.getAttribute('data-report'))).toBe('traffic-hourly'); // 4 days: per hour
    expect(await page.$eval('header', (e) => e.textContent)).toContain('UTC');
    await expectTablesEqualApi(page, serve.url, {});
    expect(await card(page, 'hits')).toBe(10_001);
    expect(await card(page, 'rejects')).toBe(1);
    expect(requested).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the world map paints each country by its hits: the busiest darkest, countries without hits grey, the sea blank', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`file://${path.join(dir, 'weblog-dashboard.html')}`);
    await page.waitForSelector('body[data-state="ready"]');
    const { body } = await api(serve.url, 'countries', { limit: '300' });
    const hits = new Map(body.rows.map((r) => [r.country as string, Number(r.hits)]));
    const busiest = [...hits].filter(([c]) => c !== '(unknown)').sort((x, y) => y[1] - x[1])[0]?.[0];
    expect(busiest).toBe('US');
    // A point well inside each country (longitude, latitude).
    const inside: Record<string, [number, number]> = {
      US: [-98, 39],
      CA: [-106, 56],
      MX: [-102, 23.6],
      BR: [-52, -10],
      AR: [-64, -34],
      RU: [90, 60],
      CN: [103, 35],
      IN: [79, 22],
      AU: [134, -25],
      DE: [10, 51],
      FR: [2.5, 46.5],
      ZA: [24, -29],
      EG: [30, 26],
      DZ: [3, 28],
      KZ: [67, 48],
      SA: [45, 24],
      CD: [23, -3],
      NG: [8, 9],
      GL: [-40, 72],
      AQ: [0, -82],
      LY: [17, 27],
      MN: [103, 46],
      PE: [-75, -10],
      ES: [-3.7, 40],
    };
    // One read of the canvas (repeated reads make Chromium warn on the console).
    const points = [...Object.values(inside), [-25, -30] as [number, number]].map(([lon, lat]) => project(lon, lat).map(Math.round));
    const colours = await page.$eval(
      '[data-chart="countries-map"] canvas',
      (c, pts) => {
        const canvas = c as HTMLCanvasElement;
        const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        return pts.map(([x, y]) => [...d.slice(((y as number) * canvas.width + (x as number)) * 4, ((y as number) * canvas.width + (x as number)) * 4 + 4)]);
      },
      points,
    );
    const pixel = (i: number) => colours[i] as number[];
    const none = [229, 231, 235, 255];
    let painted = 0;
    let grey = 0;
    for (const [i, code] of Object.keys(inside).entries()) {
      const [r, g, b, a] = pixel(i);
      if (code === busiest) expect([r, g, b, a], code).toEqual([30, 58, 138, 255]);
      if (hits.get(code)) {
        expect(a, code).toBe(255);
        expect(b, `${code} is blue`).toBeGreaterThan((r as number) + 40);
        painted++;
      } else {
        expect([r, g, b, a], `${code} has no hits`).toEqual(none);
        grey++;
      }
    }
    expect(painted).toBeGreaterThan(10);
    expect(grey).toBeGreaterThan(1);
    expect(pixel(Object.keys(inside).length)[3]).toBe(0); // the South Atlantic
    expect(await page.$eval('[data-chart="countries-map"] .legend', (e) => e.textContent)).toContain('Natural Earth');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('weblog serve on the current ClickHouse server, as the reader role: the page and every report of the API equal chdb', async () => {
    const { url } = currentTarget();
    const db = uniqueName('lp_dash');
    cleanups.push(async () => {
      const ch = new HttpClickHouse({ url, database: db });
      await ch.exec(`DROP DATABASE IF EXISTS ${db}`);
      await ch.close();
    });
    const migrated = await weblog(['migrate', '--clickhouse', withUser(url, leastPrivilegeUsers.migrator), '--database', db]);
    expect(migrated.code, migrated.stderr).toBe(0);
    const loadDir = tempDir('weblog-dash-server-', cleanups);
    const load = await weblog(
      [
        'run',
        '--source',
        `file://${path.join(dir, 'access.log')}`,
        '--clickhouse',
        withUser(url, leastPrivilegeUsers.processor),
        '--database',
        db,
        '--no-reports',
      ],
      {},
      loadDir,
    );
    expect(load.code, load.stderr).toBe(0);
    const server = await startCli(['serve', '--port', '0', '--clickhouse', withUser(url, leastPrivilegeUsers.reader), '--database', db], dir);
    try {
      for (const name of layoutReports()) {
        const [a, b] = await Promise.all([api(server.url, name, { limit: '50' }), api(serve.url, name, { limit: '50' })]);
        expect(a.status, name).toBe(200);
        expect(a.body.rows.length, name).toBe(b.body.rows.length);
        // The rejects report's times are when each run processed the line, not the log's.
        const comparable = (r: ReportJson) => (name === 'rejects' ? { ...r, rows: r.rows.map(({ first_at: _f, last_at: _l, ...rest }) => rest) } : r);
        expect(comparable(a.body), name).toEqual(comparable(b.body));
      }
      const { page, problems } = await openPage(browser);
      await page.goto(server.url);
      await page.waitForSelector('body[data-state="ready"]');
      expect(await paintedPixels(page, '[data-chart="traffic"]')).toBeGreaterThan(2000);
      await expectTablesEqualApi(page, server.url, { limit: '50' });
      expect(await card(page, 'hits')).toBe(10_001);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await stopCli(server.child);
    }
  });

  it("shows UTC whatever the zone of the browser: charts, tables and the range picker are the same in Tokyo and St. John's", async () => {
    const snapshot = async (tz: string) => {
      const { page, problems } = await openPage(browser);
      await page.emulateTimezone(tz);
      await page.goto(`${serve.url}?from=2015-05-19T00:00:00.000Z&to=2015-05-20T00:00:00.000Z`);
      await page.waitForSelector('body[data-state="ready"]');
      const out = {
        offset: await page.evaluate(() => new Date(Date.UTC(2015, 4, 19)).getTimezoneOffset()),
        charts: await page.$$eval('[data-chart] canvas', (cs) => cs.map((c) => (c as HTMLCanvasElement).toDataURL())),
        tables: await pageTables(page),
        picker: await page.$eval('#range-from', (e) => (e as HTMLInputElement).value),
      };
      expect(problems).toEqual([]);
      await page.close();
      return out;
    };
    const utc = await snapshot('UTC');
    for (const tz of ['Asia/Tokyo', 'America/St_Johns']) {
      const other = await snapshot(tz);
      expect(other.offset).not.toBe(0); // the zone applied
      expect(other.picker).toBe('2015-05-19');
      expect(other.tables).toEqual(utc.tables);
      expect(other.charts.length).toBeGreaterThan(1);
      expect(other.charts, `${tz}: chart pixels`).toEqual(utc.charts);
    }
  });

  it('hostile log fields stay text: no script runs, the path shows as written', async () => {
    for (const file of ['weblog-dashboard.html', 'may18.html']) {
      const { page, problems } = await openPage(browser);
      await page.goto(`file://${path.join(dir, file)}`);
      await page.waitForSelector('body[data-state="ready"]');
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      const cells = await page.$$eval('details[data-report="not-found"] td', (tds) => tds.map((td) => td.textContent));
      expect(cells).toContain('/<img/src=x/onerror=window.__xss=1>');
      expect(cells).toContain('/</script><script>window.__xss=2</script>');
      expect(await page.$$('img')).toHaveLength(0);
      expect(problems).toEqual([]);
      await page.close();
    }
  });

  it('weblog report --html --from --to: the file holds that day only', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`file://${path.join(dir, 'may18.html')}`);
    await page.waitForSelector('body[data-state="ready"]');
    const q = { from: '2015-05-18', to: '2015-05-19', limit: '20' };
    await expectTablesEqualApi(page, serve.url, q);
    const daily = (await api(serve.url, 'traffic-daily', q)).body;
    expect(daily.rows.map((r) => r.day)).toEqual(['2015-05-18']);
    expect(await card(page, 'hits')).toBe(sumOf(daily, 'hits'));
    expect(await page.$eval('#range', (e) => e.textContent)).toContain('2015-05-18 00:00 to 2015-05-19 00:00');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('weblog serve: the live page equals the API; the range picker changes what is shown, and the URL', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(serve.url);
    await page.waitForSelector('body[data-state="ready"]');
    expect(await paintedPixels(page, '[data-chart="traffic"]')).toBeGreaterThan(2000);
    await expectTablesEqualApi(page, serve.url, { limit: '50' });
    const allHits = await card(page, 'hits');
    expect(allHits).toBe(10_001);

    // Pick 19 May (one UTC day; the "to" field is inclusive).
    await page.evaluate(() => {
      const set = (id: string, v: string) => {
        const input = document.getElementById(id) as HTMLInputElement;
        input.value = v;
        input.dispatchEvent(new Event('change', { bubbles: true }));
      };
      set('range-from', '2015-05-19');
      set('range-to', '2015-05-19');
    });
    const q = { from: '2015-05-19T00:00:00.000Z', to: '2015-05-20T00:00:00.000Z', limit: '50' };
    const dayHits = sumOf((await api(serve.url, 'traffic-daily', q)).body, 'hits');
    expect(dayHits).toBeGreaterThan(0);
    expect(dayHits).toBeLessThan(allHits);
    await page.waitForFunction(
      (n) => document.body.dataset.state === 'ready' && document.querySelector('[data-card="hits"]')?.getAttribute('data-value') === String(n),
      {},
      dayHits,
    );
    expect(new URL(page.url()).searchParams.get('from')).toBe('2015-05-19T00:00:00.000Z');
    expect(await page.$eval('[data-chart="traffic"]', (e) => e.getAttribute('data-report'))).toBe('traffic-hourly');
    await expectTablesEqualApi(page, serve.url, q);

    // A reload keeps the range (it is in the URL); "All" drops it.
    await page.reload();
    await page.waitForFunction((n) => document.querySelector('[data-card="hits"]')?.getAttribute('data-value') === String(n), {}, dayHits);
    await page.click('button[data-preset="all"]');
    await page.waitForFunction((n) => document.querySelector('[data-card="hits"]')?.getAttribute('data-value') === String(n), {}, allHits);

    // Sorting a table by a column, both ways.
    await page.click('details[data-report="status"] th[data-column="status"]');
    const desc = await page.$$eval('details[data-report="status"] tbody tr td:first-child', (tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    expect(desc).toEqual([...desc].sort((x, y) => y - x));
    await page.click('details[data-report="status"] th[data-column="status"]');
    const asc = await page.$$eval('details[data-report="status"] tbody tr td:first-child', (tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    expect(asc).toEqual([...desc].reverse());
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the filter bar: a click on a country filters every report, the URL keeps it, the chip removes it', async () => {
    const { page, problems } = await openPage(browser);
    // The API answers slowly while `slow`, so the click lands while a periodic refresh is in flight.
    let slow = false;
    let held: () => void = () => {};
    const inFlight = new Promise<void>((r) => (held = r));
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (slow && r.url().includes('/api/')) {
        held();
        setTimeout(() => void r.continue(), 700);
      } else void r.continue();
    });
    await page.goto(serve.url);
    await page.waitForSelector('body[data-state="ready"]');
    const allHits = await card(page, 'hits');
    expect(await page.$eval('#filters', (e) => e.textContent)).toContain('click a value in a table');
    const cell = 'details[data-report="countries"] tbody tr:nth-child(2) td.filterable';
    const country = await page.$eval(cell, (e) => e.getAttribute('data-value') as string);
    slow = true;
    await inFlight;
    await page.click(cell);
    const q = { limit: '50', where: `country=${country}` };
    const hits = sumOf((await api(serve.url, 'traffic-daily', q)).body, 'hits');
    expect(hits).toBeGreaterThan(0);
    expect(hits).toBeLessThan(allHits);
    // The first page shown after the click is the filtered one: the load in flight was for the old filters (seen
    // failing: that stale load was shown as ready, and the click's own load was dropped).
    await page.waitForFunction(() => document.body.dataset.state === 'loading');
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    expect(await card(page, 'hits')).toBe(hits);
    slow = false;
    await page.waitForFunction(
      (n) => document.body.dataset.state === 'ready' && document.querySelector('[data-card="hits"]')?.getAttribute('data-value') === String(n),
      {},
      hits,
    );
    expect(new URL(page.url()).searchParams.getAll('where')).toEqual([`country=${country}`]);
    expect(await page.$$eval('#filters .chip', (es) => es.map((e) => e.getAttribute('data-filter')))).toEqual([`country=${country}`]);
    await expectTablesEqualApi(page, serve.url, q);
    // A status class from the status table joins it (a rollup without status: the raw rows, said on the report).
    await page.click('details[data-report="status"] tbody tr:first-child td.filterable');
    await page.waitForFunction(() => new URL(location.href).searchParams.getAll('where').length === 2 && document.body.dataset.state === 'ready');
    expect(await page.$eval('details[data-report="countries"] [data-filter-note]', (e) => e.textContent)).toContain('traffic_hourly has no status');
    // A reload keeps the filters; removing both shows everything again.
    await page.reload();
    await page.waitForSelector('body[data-state="ready"]');
    expect(await page.$$eval('#filters .chip', (es) => es.length)).toBe(2);
    await page.click('#filters .chip .remove');
    await page.waitForFunction(() => document.querySelectorAll('#filters .chip').length === 1 && document.body.dataset.state === 'ready');
    await page.click('#filters .chip .remove');
    await page.waitForFunction((n) => document.querySelector('[data-card="hits"]')?.getAttribute('data-value') === String(n), {}, allHits);
    expect(new URL(page.url()).searchParams.getAll('where')).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the API: one endpoint per report, parameters checked, read-only, no stack traces', async () => {
    const index = await getJson<{ reports: { name: string; url: string }[] }>(`${serve.url}api`);
    expect(index.body.reports.map((r) => r.name)).toEqual(expect.arrayContaining(layoutReports()));
    const ok = await api(serve.url, 'status', { limit: '2' });
    expect(ok.status).toBe(200);
    expect(typeof ok.body.rows[0]?.hits).toBe('number');
    expect(ok.headers.get('content-security-policy')).toContain("default-src 'none'");
    const bad = await getJson<{ error: { code: string; message: string } }>(`${serve.url}api/reports/status?from=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('CONFIG_INVALID');
    expect(bad.body.error.message).toContain('"yesterday"');
    const unknownParam = await getJson<{ error: { message: string } }>(`${serve.url}api/reports/status?sql=DROP+TABLE+access_log`);
    expect(unknownParam.status).toBe(400);
    expect(unknownParam.body.error.message).toBe('unknown parameter "sql"; parameters: from, to, site, limit, visit_gap, where, compare');
    const badWhere = await getJson<{ error: { message: string } }>(`${serve.url}api/reports/status?where=${encodeURIComponent("user_agent=x' OR 1")}`);
    expect(badWhere.status).toBe(400);
    expect(badWhere.body.error.message).toMatch(/^where: unknown field "user_agent" in .*; fields: site, path, status/);
    const filtered = await api(serve.url, 'countries', { where: 'status=4xx', limit: '3' });
    expect(filtered.status).toBe(200);
    expect(filtered.body.where).toEqual(['status=4xx']);
    expect(filtered.body.rows_from).toBe('raw-for-rollup');
    const compared = await api(serve.url, 'traffic-daily', { from: '2015-05-19', to: '2015-05-20', compare: 'previous' });
    expect(compared.status).toBe(200);
    expect(compared.body.compare).toEqual({ mode: 'previous', from: '2015-05-18T00:00:00.000Z', to: '2015-05-19T00:00:00.000Z' });
    const may18 = await api(serve.url, 'traffic-daily', { from: '2015-05-18', to: '2015-05-19' });
    expect(compared.body.rows[0]?.hits_prev).toBe(may18.body.rows[0]?.hits);
    const visits = await api(serve.url, 'visits', { visit_gap: '5' });
    expect(visits.status).toBe(200);
    expect((visits.body as unknown as { visit_gap_minutes: number }).visit_gap_minutes).toBe(5);
    const badGap = await getJson<{ error: { message: string } }>(`${serve.url}api/reports/visits?visit_gap=0.5`);
    expect(badGap.status).toBe(400);
    expect(badGap.body.error.message).toBe('visit_gap: expected whole minutes from 1 to 1440, got "0.5"');
    const missing = await getJson<{ error: { code: string } }>(`${serve.url}api/reports/..%2F..%2Fetc%2Fpasswd`);
    expect(missing.status).toBe(404);
    const post = await fetch(`${serve.url}api/reports/status`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    const health = await getJson<{ status: string }>(`${serve.url}healthz`);
    expect(health.body.status).toBe('ok');
    for (const body of [bad.body, unknownParam.body, missing.body]) expect(JSON.stringify(body)).not.toMatch(/\n\s+at |\.ts:\d+/);
  });

  it('answers only its own host names (DNS rebinding), 400 for a malformed path, no server details in errors', async () => {
    const port = Number(new URL(serve.url).port);
    const get = (pathName: string, host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: pathName, headers: { host } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
      });
    // Before: Host: attacker.example was answered with 200 and the API's data.
    expect((await get('/api/reports/top-ips', 'attacker.example')).status).toBe(421);
    expect((await get('/api/reports/top-ips', `attacker.example:${port}`)).status).toBe(421);
    for (const h of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) expect((await get('/api', h)).status, h).toBe(200);
    // Before: 500 for a malformed percent-encoding.
    const bad = await get('/api/reports/%E0%A4%A', `127.0.0.1:${port}`);
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('malformed percent-encoding in the path');
    // --refresh-ms 4294967296 was accepted and browsers took it as about 0.
    const r = await weblog(['serve', '--refresh-ms', '4294967296', '--embedded', data], {}, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--refresh-ms');
  });

  it('a second process on the folder weblog serve holds is told who has it, in one line', async () => {
    const r = await weblog(['report', 'status', '--embedded', data], {}, dir);
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(
      `weblog report: UNAVAILABLE: the embedded data folder ${data} is open in another process (a weblog run, process or serve?); chdb opens a folder in one process at a time: stop that process, watch a run live with its --serve, or use a ClickHouse server (--clickhouse)`,
    );
  });

  it('weblog serve stops on SIGTERM', async () => {
    expect(await stopCli(serve.child)).toBe(0);
    expect(serve.stderr()).toContain('weblog serve: stopped');
  });
});

describe('rows arriving while the page is open', () => {
  let ch: EmbeddedClickHouse;
  let server: DashboardServer;

  beforeAll(async () => {
    const dir = tempDir('weblog-dash-live-', cleanups);
    ch = new EmbeddedClickHouse({ dir, database: uniqueName('live') });
    cleanups.push(() => ch.close());
    await migrate(ch);
    await insertRecords(ch, await enrichLines(readLines(fixture('logs', 'elastic_apache.log')).slice(0, 3000)), 1000, 'main');
    server = await startDashboardServer(ch, { port: 0, refreshMs: 500 });
    cleanups.push(() => server.close());
  }, 120_000);

  it('the live page shows new rows and a new site within a few refreshes', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(server.url);
    await page.waitForSelector('body[data-state="ready"]');
    const before = await card(page, 'hits');
    expect(before).toBe(3000);
    const lines = Array.from(
      { length: 37 },
      (_, i) => `198.51.100.${i} - - [21/May/2015:10:${String(i).padStart(2, '0')}:00 +0000] "GET /new/${i} HTTP/1.1" 200 100 "-" "curl/8.0"`,
    );
    await insertRecords(ch, await enrichLines(lines), 37, 'arriving');
    await page.waitForFunction((n) => document.querySelector('[data-card="hits"]')?.getAttribute('data-value') === String(n), { timeout: 15_000 }, before + 37);
    await page.waitForSelector('#site option[value="arriving"]', { timeout: 15_000 });
    await page.select('#site', 'arriving');
    await page.waitForFunction(() => document.querySelector('[data-card="hits"]')?.getAttribute('data-value') === '37', { timeout: 15_000 });
    expect(new URL(page.url()).searchParams.get('site')).toBe('arriving');
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('weblog run --follow --serve', () => {
  it('serves the live page while it ships and stores appended lines, and writes the HTML file when stopped', async () => {
    const dir = tempDir('weblog-dash-follow-', cleanups);
    const logDir = path.join(dir, 'logs');
    const log = path.join(logDir, 'access.log');
    const first = readLines(fixture('logs', 'elastic_apache.log')).slice(0, 500);
    mkdirSync(logDir);
    writeFileSync(log, first.join('\n') + '\n');
    const run = await startCli(
      [
        'run',
        '--source',
        `file://${logDir}`,
        '--embedded',
        path.join(dir, 'data'),
        '--follow',
        '--poll-interval-ms',
        '200',
        '--serve',
        '--port',
        '0',
        '--refresh-ms',
        '1000',
      ],
      dir,
    );
    const { page, problems } = await openPage(browser);
    await page.goto(run.url);
    await page.waitForFunction(() => document.querySelector('[data-card="hits"]')?.getAttribute('data-value') === '500', { timeout: 60_000 });
    appendFileSync(log, readLines(fixture('logs', 'elastic_apache.log')).slice(500, 800).join('\n') + '\n');
    await page.waitForFunction(() => document.querySelector('[data-card="hits"]')?.getAttribute('data-value') === '800', { timeout: 60_000 });
    expect(problems).toEqual([]);
    await page.close();
    expect(await stopCli(run.child)).toBe(0);
    expect(run.stderr()).toContain(`dashboard: ${path.join(dir, 'weblog-dashboard.html')}`);
    expect(readFileSync(path.join(dir, 'weblog-dashboard.html'), 'utf8')).toContain('"mode":"static"');
  }, 180_000);
});
