/**
 * Reports: SQL files in clickhouse-schema/reports/NAME.sql with a header:
 *   -- title: ...            the report's name for people
 *   -- about: ...            what it shows and where it reads from
 *   -- column NAME: ...      what each result column means (one line each)
 *   -- labels: a, b          columns whose empty value means "not known"
 *   -- include: NAME         replaced by reports/include/NAME.sql (shared SQL)
 * Parameters ({from}, {to}, {site}, {limit}, {gap}) are bound as query parameters,
 * never pasted into the SQL.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeblogError } from '../errors.js';
import { versionAtLeast } from '../schema/migrate.js';
import { rawRetentionDays, retainedSince } from '../schema/retention.js';
import { MIN_SERVER_VERSION, type ClickHouse } from '../sink/clickhouse/types.js';
import { hasAccessLog } from '../sink/queries.js';
import { sqlTime } from '../sink/clickhouse/sql.js';
import { filterReportSql, type FilteredSql, type FilterSource } from '../schema/filters.js';
import { filterText, type Filter } from './filters.js';
import { UNKNOWN_LABEL } from './labels.js';
import { ALL_TIME } from './time.js';
import { checkCompare, joinPrevious, shiftFor, shiftTime, type CompareMode } from './compare.js';

export const reportsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'clickhouse-schema', 'reports');

export interface ReportDef {
  name: string;
  title: string;
  about: string;
  /** What each result column means, in result order. */
  columns: { name: string; about: string }[];
  /** Columns whose empty value is shown as UNKNOWN_LABEL. */
  labels: string[];
  sql: string;
}

export { UNKNOWN_LABEL } from './labels.js';

export interface ReportParams {
  /** Inclusive start (epoch ms). Rollup reports round it down to their hour/day/month. */
  from?: number | undefined;
  /** Exclusive end (epoch ms). */
  to?: number | undefined;
  /** Only this site ('' or undefined: all). */
  site?: string | undefined;
  /** Rows for top-N reports (default 20). */
  limit?: number | undefined;
  /** Visits reports: the longest pause within one visit, in seconds (default 1,800: 30 minutes). */
  visitGap?: number | undefined;
  /** Filters (--where), all applied; see filters.ts. */
  where?: readonly Filter[] | undefined;
  /** Adds the previous period's values and the change (compare.ts); needs from and to. */
  compare?: CompareMode | undefined;
}

export const reportDefaults = { limit: 20, visitGap: 1800 } as const;

/** The longest --visit-gap / visit_gap: a day (visitor_id changes at UTC midnight anyway). */
export const maxVisitGapMinutes = 1440;

export interface ReportResult {
  def: ReportDef;
  params: Required<Omit<ReportParams, 'compare'>> & Pick<ReportParams, 'compare'>;
  columns: string[];
  /** ClickHouse type of each column, by name. */
  types: Record<string, string>;
  /**
   * Integers are numbers where they fit in 2^53 (decimal strings beyond),
   * empty labels are UNKNOWN_LABEL, times are 'YYYY-MM-DD hh:mm:ss' UTC.
   */
  rows: Record<string, unknown>[];
  /** Set when the report reads the raw table and its rows are kept a limited time (weblog migrate --raw-ttl). */
  retention?: { days: number; since: number; note: string | undefined };
  /** Set when filters were given: them as text, and where the rows came from (a rollup without a filtered field falls back to the raw rows). */
  filters?: { applied: string[]; source: FilterSource; note: string | undefined };
  /** Set with --compare: the mode and the previous period's range (epoch ms). */
  compare?: { mode: CompareMode; from: number; to: number };
}

export function listReports(): ReportDef[] {
  return readdirSync(reportsDir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => loadReport(f.replace(/\.sql$/, '')));
}

export function loadReport(name: string): ReportDef {
  const file = path.join(reportsDir, `${name}.sql`);
  if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) {
    const names = readdirSync(reportsDir)
      .filter((f) => f.endsWith('.sql'))
      .map((f) => f.replace(/\.sql$/, ''));
    throw new WeblogError('CONFIG_INVALID', `unknown report "${name}"; reports: ${names.join(', ')}`);
  }
  // `-- include: NAME` lines take the text of include/NAME.sql (SQL several reports share, such as the visits).
  const sql = readFileSync(file, 'utf8').replace(/^-- include: ([a-z0-9-]+)$/gm, (_, inc: string) =>
    readFileSync(path.join(reportsDir, 'include', `${inc}.sql`), 'utf8').trimEnd(),
  );
  const header = (key: string) => new RegExp(`^-- ${key}: (.*)$`, 'm').exec(sql)?.[1]?.trim() ?? '';
  const columns = [...sql.matchAll(/^-- column ([a-z0-9_]+): (.*)$/gm)].map((m) => ({ name: m[1] as string, about: (m[2] as string).trim() }));
  const labels = header('labels')
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return { name, title: header('title') || name, about: header('about'), columns, labels, sql };
}

const integer = /^(Nullable\()?U?Int(8|16|32|64)\)?$/;

/** One result value as reports hand it out (see ReportResult.rows). */
export function reportValue(v: unknown, type: string, label: boolean): unknown {
  if (typeof v === 'string') {
    if (label && v === '') return UNKNOWN_LABEL;
    if (integer.test(type) && /^-?\d+$/.test(v)) {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : v;
    }
  }
  return v;
}

export { ALL_TIME } from './time.js';

/**
 * Says plainly when reports cannot run here: a server too old for them (an
 * 18.16 server answered "Unknown setting param_from"), or no weblog data (an
 * UNKNOWN_TABLE error).
 */
export async function checkReportable(ch: ClickHouse): Promise<void> {
  await ch.detect();
  if (ch.dialect === 'legacy' || (ch.version !== '' && !versionAtLeast(ch.version, MIN_SERVER_VERSION))) {
    throw new WeblogError(
      'SERVER_TOO_OLD',
      `${ch.describe()} is ClickHouse ${ch.version}; reports need ${MIN_SERVER_VERSION} or newer (window functions, query parameters)`,
    );
  }
  if (!(await hasAccessLog(ch)))
    throw new WeblogError('NO_DATA', `no weblog data in ${ch.describe()}: it has no access_log table; run \`weblog run\` (or \`weblog process\`) first`);
}

/** The most rows a top-N report reads for the previous period of --compare (so a row of the current top N finds its previous value). */
const PREVIOUS_LIMIT = 100_000;

export async function runReport(ch: ClickHouse, name: string, params: ReportParams = {}): Promise<ReportResult> {
  const def = loadReport(name);
  if (params.compare === undefined) return runOnce(ch, def, params);
  const from = params.from ?? ALL_TIME.from;
  const to = params.to ?? ALL_TIME.to;
  const spec = checkCompare(name, def, from, to, params.compare, () =>
    listReports()
      .filter((r) => r.sql.includes('-- compare by:'))
      .map((r) => r.name),
  );
  const shift = shiftFor(params.compare, from, to, spec.by);
  const prevFrom = shiftTime(from, shift, true);
  const prevTo = shiftTime(to, shift, true);
  const [cur, prev] = [await runOnce(ch, def, params), await runOnce(ch, def, { ...params, from: prevFrom, to: prevTo, limit: PREVIOUS_LIMIT })];
  return { ...joinPrevious(cur, prev, spec, shift), compare: { mode: params.compare, from: prevFrom, to: prevTo } };
}

async function runOnce(ch: ClickHouse, def: ReportDef, params: ReportParams): Promise<ReportResult> {
  const p: ReportResult['params'] = {
    from: params.from ?? ALL_TIME.from,
    to: params.to ?? ALL_TIME.to,
    site: params.site ?? '',
    limit: params.limit ?? reportDefaults.limit,
    visitGap: params.visitGap ?? reportDefaults.visitGap,
    where: params.where ?? [],
    compare: params.compare,
  };
  const filtered = filterReportSql(def.name, def.sql, p.where);
  const bound: Record<string, string | number> = { from: sqlTime(p.from), to: sqlTime(p.to), site: p.site, ...filtered.params };
  if (def.sql.includes('{limit:')) bound.limit = p.limit;
  if (def.sql.includes('{gap:')) bound.gap = p.visitGap;
  const table = await ch.queryTable(filtered.sql, bound);
  const columns = table.columns.map((c) => c.name);
  const types = Object.fromEntries(table.columns.map((c) => [c.name, c.type]));
  const labels = new Set(def.labels);
  const rows = table.rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const c of columns) out[c] = reportValue(row[c], types[c] as string, labels.has(c));
    return out;
  });
  return { def, params: p, columns, types, rows, ...(await retentionOf(ch, filtered.sql, p)), ...filtersOf(filtered, p.where) };
}

function filtersOf(filtered: FilteredSql, where: readonly Filter[]): Pick<ReportResult, 'filters'> {
  if (where.length === 0) return {};
  const note =
    filtered.source === 'raw-for-rollup'
      ? `${filtered.table} has no ${filtered.missing.join(', ')}: this report read the raw rows instead (the same aggregation over the filtered rows)`
      : undefined;
  return { filters: { applied: where.map(filterText), source: filtered.source, note } };
}

/** Says when a raw-table report's range reaches past the raw rows still kept. */
async function retentionOf(ch: ClickHouse, sql: string, p: ReportResult['params']): Promise<Pick<ReportResult, 'retention'>> {
  if (!/\bFROM access_log\b/.test(sql)) return {};
  const days = await rawRetentionDays(ch);
  if (days === undefined) return {};
  const since = retainedSince(days);
  const note =
    p.from < since
      ? `raw rows are kept ${days} days (since ${new Date(since).toISOString().slice(0, 16)}Z); this report reads them, so it holds nothing before that`
      : undefined;
  return { retention: { days, since, note } };
}
