/**
 * The Grafana dashboards in docs/grafana. No Grafana here, so: the JSON's
 * shape is checked, every ClickHouse panel's SQL runs on chdb with the
 * plugin's time macros and the variables expanded as grafana-clickhouse-
 * datasource expands them, and its numbers are compared with weblog's own
 * reports; every PromQL expression names metrics and labels the workers
 * really export.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { healthMetric, Registry } from '../../../src/observe/metrics.js';
import { processorMetrics } from '../../../src/pipeline/process.js';
import { shipMetrics } from '../../../src/pipeline/ship-metrics.js';
import { runReport } from '../../../src/report/reports.js';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import type { ClickHouse } from '../../../src/sink/clickhouse/types.js';
import { currentTarget } from '../../helpers/clickhouse.js';
import { fixture, readLines, repoRoot } from '../../helpers/datasets.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';

interface Target {
  refId: string;
  datasource: { type: string; uid: string };
  rawSql?: string;
  expr?: string;
  format?: number;
  editorType?: string;
}
interface Panel {
  id: number;
  title: string;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: string; uid: string };
  targets: Target[];
}
interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  timezone: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string; allValue?: string }[] };
}

const load = (name: string) => JSON.parse(readFileSync(path.join(repoRoot, 'docs', 'grafana', name), 'utf8')) as Dashboard;
const traffic = load('weblog-clickhouse.json');
const workers = load('weblog-workers.json');

/** The panel's SQL as grafana-clickhouse-datasource 4.x sends it: macros and ${variables} replaced. */
function expand(sql: string, range: { from: number; to: number }, intervalS: number, vars: Record<string, string>): string {
  const s = (ms: number) => Math.floor(ms / 1000);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const out = sql
    .replace(
      /\$__timeFilter_ms\(([^)]+)\)/g,
      (_, c: string) => `${c} >= fromUnixTimestamp64Milli(${range.from}) AND ${c} <= fromUnixTimestamp64Milli(${range.to})`,
    )
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, c: string) => `${c} >= toDateTime(${s(range.from)}) AND ${c} <= toDateTime(${s(range.to)})`)
    .replace(/\$__dateFilter\(([^)]+)\)/g, (_, c: string) => `${c} >= toDate('${day(range.from)}') AND ${c} <= toDate('${day(range.to)}')`)
    .replace(/\$__timeInterval\(([^)]+)\)/g, (_, c: string) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${intervalS} second)`)
    .replace(/\$__fromTime/g, `toDateTime(${s(range.from)})`)
    .replace(/\$__toTime/g, `toDateTime(${s(range.to)})`)
    .replace(/\$\{(\w+)\}/g, (m, v: string) => {
      if (!(v in vars)) throw new Error(`no value for ${m}`);
      return vars[v] as string;
    });
  if (/\$__|\$\{/.test(out)) throw new Error(`unexpanded macro in: ${out}`);
  return out;
}

describe('dashboard JSON shape', () => {
  it.each([
    ['weblog-clickhouse.json', traffic, 'grafana-clickhouse-datasource'],
    ['weblog-workers.json', workers, 'prometheus'],
  ] as const)('%s: importable, panels on the 24-column grid without overlap, unique ids, one data source type', (_name, d, dsType) => {
    expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(d.title).toMatch(/^weblog/);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.timezone).toBe('utc');
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      expect(p.datasource.type).toBe(dsType);
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) {
        expect(t.datasource).toEqual({ type: dsType, uid: '${datasource}' });
        if (dsType === 'prometheus') expect(t.expr).toBeTruthy();
        else {
          expect(t.editorType).toBe('sql');
          expect([0, 1]).toContain(t.format);
          expect(t.rawSql).toBeTruthy();
        }
      }
    }
    const vars = d.templating.list.map((v) => v.name);
    const used = new Set([...JSON.stringify(d.panels).matchAll(/\$\{?(\w+)\}?/g)].map((m) => m[1] as string).filter((v) => !v.startsWith('__')));
    for (const v of used) expect(vars, `variable ${v}`).toContain(v);
  });

  it('has the panels the issue asks for', () => {
    const titles = traffic.panels.map((p) => p.title);
    for (const t of ['Traffic', 'Top pages', 'Countries', 'Status codes', 'Response time percentiles', 'Bots by name', 'Bots vs humans'])
      expect(titles).toContain(t);
    const wtitles = workers.panels.map((p) => p.title);
    for (const t of ['Lines per second', 'Rows inserted', 'Rejects by reason', 'Consumer lag', 'Freshness (produce to stored)', 'Insert latency'])
      expect(wtitles).toContain(t);
  });
});

describe.each(['chdb', 'the current ClickHouse server'] as const)('each ClickHouse panel on %s, macros expanded', (engine) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-grafana-'));
  let ch: ClickHouse;
  const range = { from: Date.UTC(2015, 4, 17), to: Date.UTC(2015, 4, 21) - 1 };
  const day18 = { from: Date.UTC(2015, 4, 18), to: Date.UTC(2015, 4, 19) - 1 };
  const sql = (title: string) => traffic.panels.find((p) => p.title === title)?.targets[0]?.rawSql as string;
  const q = (title: string, r = range, site = '__all__', interval = 3600) => ch.query<Record<string, unknown>>(expand(sql(title), r, interval, { site }));
  const report = async (name: string, r: { from: number; to: number }, site = '') =>
    (await runReport(ch, name, { from: r.from, to: r.to + 1, site, limit: 50 })).rows;

  beforeAll(async () => {
    if (engine === 'chdb') ch = new EmbeddedClickHouse({ dir, database: uniqueName('grafana') });
    else {
      const http = new HttpClickHouse({ url: currentTarget().url, database: uniqueName('grafana') });
      await http.createDatabase();
      ch = http;
    }
    await migrate(ch);
    await insertRecords(ch, await enrichLines(readLines(fixture('logs', 'elastic_apache.log'))), 2000, 'a');
    await insertRecords(ch, await enrichLines(readLines(fixture('logs', 'basjes_hackers.log'))), 2000, 'b');
    await ch.insertJson(
      'rejects',
      JSON.stringify({
        reason: 'parse_error',
        detail: 'x',
        line: 'bad line',
        received_at: '2015-05-18 10:00:00.000',
        source: 's',
        source_offset: 0,
        kafka_topic: 't',
        kafka_partition: 0,
        kafka_offset: 0,
      }),
    );
  }, 120_000);
  afterAll(async () => {
    if (ch?.kind === 'http') await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
    await ch?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every panel runs, for all sites and for one, on a day and on the whole range', async () => {
    for (const p of traffic.panels)
      for (const r of [range, day18])
        for (const site of ['__all__', 'a']) {
          const rows = await ch.query(expand(p.targets[0]?.rawSql as string, r, 3600, { site }));
          expect(rows.length, `${p.title} ${site}`).toBeGreaterThan(0);
        }
    const siteVar = traffic.templating.list.find((v) => v.name === 'site');
    expect((await ch.query<{ site: string }>(siteVar?.query as string)).map((r) => r.site)).toEqual(['a', 'b']);
  });

  it('stat and time-series panels add up to the reports', async () => {
    const days = await report('traffic-daily', range);
    const hits = days.reduce((s, r) => s + Number(r.hits), 0);
    expect(Number((await q('Requests'))[0]?.hits)).toBe(hits);
    expect(Number((await q('Bandwidth'))[0]?.bytes)).toBe(days.reduce((s, r) => s + Number(r.bytes), 0));
    const series = await q('Traffic', range, '__all__', 86400);
    expect(series.reduce((s, r) => s + Number(r.hits), 0)).toBe(hits);
    expect(series.map((r) => Number(r.visitors))).toEqual(days.map((r) => Number(r.visitors)));
    const aOnly = await report('traffic-daily', range, 'a');
    expect(Number((await q('Requests', range, 'a'))[0]?.hits)).toBe(aOnly.reduce((s, r) => s + Number(r.hits), 0));
    const errs = await report('errors', range);
    const status = await q('Status classes', range, '__all__', 86400);
    expect(status.map((r) => Number(r['4xx']))).toEqual(errs.map((r) => Number(r.client_errors)));
    const bots = await q('Bots vs humans', range, '__all__', 86400);
    expect(bots.map((r) => Number(r.bots))).toEqual((await report('bots', range)).map((r) => Number(r.bot_hits)));
  });

  it('table panels equal the reports', async () => {
    const pages = await q('Top pages', day18, 'a');
    const top = await report('top-pages', day18, 'a');
    expect(pages.slice(0, 20).map((r) => [r.path, Number(r.hits)])).toEqual(top.slice(0, 20).map((r) => [r.path, r.hits]));
    const countries = await q('Countries');
    expect(countries.slice(0, 20).map((r) => [r.country, Number(r.hits)])).toEqual(
      (await report('countries', range)).slice(0, 20).map((r) => [r.country, r.hits]),
    );
    const botNames = await q('Bots by name');
    expect(botNames.slice(0, 20).map((r) => [r.bot, Number(r.hits)])).toEqual((await report('bot-names', range)).slice(0, 20).map((r) => [r.bot, r.hits]));
    const statusPie = await q('Status codes', day18);
    expect(statusPie.map((r) => [Number(r.status), Number(r.hits)])).toEqual((await report('status', day18)).map((r) => [r.status, r.hits]));
    expect(await q('Rejected lines by reason', day18)).toEqual([{ reason: 'parse_error', lines: '1', example_line: 'bad line' }]);
  });
});

describe('each Prometheus panel names what the workers export', () => {
  it('metrics and labels exist', () => {
    const registry = new Registry();
    const pm = processorMetrics(registry);
    shipMetrics(registry);
    healthMetric(registry, () => true);
    pm.waiting.set(1, { reason: 'disk_full' });
    // Labels as the processor sets them.
    pm.rejected.inc({ reason: 'parse_error' });
    pm.lag.set(3, { topic: 'weblog.raw', partition: 0 });
    const text = registry.render();
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
    const labelsOf = (metric: string) =>
      new Set(
        [...text.matchAll(new RegExp(`^${metric}(?:_bucket)?\\{([^}]*)\\}`, 'gm'))].flatMap((m) =>
          [...(m[1] as string).matchAll(/(\w+)="/g)].map((l) => l[1] as string),
        ),
      );
    let checked = 0;
    const rules = (
      parseYaml(readFileSync(path.join(repoRoot, 'docs', 'prometheus', 'weblog-alerts.yml'), 'utf8')) as {
        groups: { rules: { alert: string; expr: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['WeblogLagGrowing', 'WeblogNoInserts', 'WeblogRejectRatioHigh', 'WeblogBrokerUnreachable']),
    );
    const exprs = [
      ...workers.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr as string }))),
      ...rules.map((r) => ({ title: r.alert, expr: r.expr })),
    ];
    for (const p of exprs)
      for (const t of [p]) {
        const expr = t.expr;
        for (const m of expr.matchAll(/\b(weblog_\w+?)(_bucket)?\b(?:\{([^}]*)\})?/g)) {
          const name = m[1] as string;
          expect(types.has(name), `${p.title}: ${name} is exported`).toBe(true);
          if (m[2]) expect(types.get(name), `${name} is a histogram`).toBe('histogram');
          checked++;
        }
        const by = /by \(([^)]*)\)/.exec(expr)?.[1];
        const metric = /\b(weblog_\w+?)(?:_bucket)?\b/.exec(expr)?.[1] as string;
        for (const l of (by ?? '')
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)) {
          if (l === 'le' || l === 'instance' || l === 'job') continue; // histogram buckets and Prometheus' own target labels
          expect(labelsOf(metric).has(l), `${p.title}: ${metric} has label ${l}`).toBe(true);
        }
      }
    expect(checked).toBeGreaterThan(20);
  });
});
