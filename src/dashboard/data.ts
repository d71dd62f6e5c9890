/** What the dashboard reads from ClickHouse: the page's meta data and every report of the layout. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WeblogError } from '../errors.js';
import { reportJson, type ReportJson } from '../report/render.js';
import { loadReport, runReport, type ReportParams } from '../report/reports.js';
import { filterText, takesFilters } from '../report/filters.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';
import { trafficSpan } from '../sink/queries.js';
import { layoutReports } from './layout.js';
import { MAP_LIMIT, renderPage, type PageConfig, type PageMeta } from './page.js';

const iso = (chTime: string) => `${chTime.replace(' ', 'T')}Z`;

/** Sites and the time span of the data (from the hourly rollup: one row per site, hour and dimensions). */
export async function pageMeta(ch: ClickHouse): Promise<PageMeta> {
  const span = await trafficSpan(ch);
  return {
    sites: span.sites,
    first: span.first === null ? null : iso(span.first),
    last: span.last === null ? null : iso(span.last),
    source: ch.describe(),
    generatedAt: new Date().toISOString(),
  };
}

/** Every report the dashboard shows, over one range. */
export async function dashboardReports(ch: ClickHouse, params: ReportParams): Promise<Record<string, ReportJson>> {
  const out: Record<string, ReportJson> = {};
  // Filters apply to every report that can take them; the others (rejects) show all their rows, and their JSON names no filter.
  const each: ReportParams = { ...params, compare: undefined };
  for (const name of layoutReports()) out[name] = reportJson(await runReport(ch, name, takesFilters(loadReport(name).sql) ? each : { ...each, where: [] }));
  return out;
}

/** The configuration of a static (self-contained) dashboard page. */
export async function staticDashboard(ch: ClickHouse, params: ReportParams): Promise<PageConfig> {
  const limit = params.limit ?? 50;
  return {
    mode: 'static',
    meta: await pageMeta(ch),
    query: {
      from: params.from === undefined ? null : new Date(params.from).toISOString(),
      to: params.to === undefined ? null : new Date(params.to).toISOString(),
      site: params.site ?? '',
      limit,
      where: (params.where ?? []).map(filterText),
    },
    reports: await dashboardReports(ch, { ...params, limit }),
    map: reportJson(await runReport(ch, 'countries', { ...params, compare: undefined, limit: MAP_LIMIT })),
  };
}

/** Writes the self-contained dashboard to `file` (through a temporary file, so a reader never sees half a page); returns its absolute path. */
export async function writeStaticDashboard(ch: ClickHouse, file: string, params: ReportParams): Promise<string> {
  const html = renderPage(await staticDashboard(ch, params));
  const target = path.resolve(file);
  try {
    mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, html);
    renameSync(tmp, target);
  } catch (err) {
    throw new WeblogError('CONFIG_INVALID', `cannot write the dashboard to ${target}: ${(err as Error).message}`, { cause: err });
  }
  return target;
}
