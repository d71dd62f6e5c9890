/**
 * Report filters in SQL. Each filter field maps to one column expression of
 * the raw table; values are bound as query parameters ({wf0:String}, ...),
 * never pasted. A report reads one table, in one place that also says
 * `({site:String} = '' OR site = {site:String})`; the filters' condition is
 * added there.
 *
 * A rollup (traffic_hourly, traffic_monthly, pages_daily) keeps only some
 * dimensions. Filters on those apply to the rollup itself. Filters on any
 * other field make the report read the raw rows instead: the rollup's own
 * materialized-view SELECT (read from the migrations, so it is the same
 * aggregation) runs over the filtered raw rows of the range, so the report's
 * SQL and its numbers mean the same as on the rollup.
 */
import { WeblogError } from '../errors.js';
import { loadMigrations } from './migrate.js';

export type FilterKind = 'label' | 'path' | 'status' | 'bool';

/** The fields reports can be filtered by: what each means and its expression over access_log. */
export const filterFields = {
  site: { kind: 'label', column: 'site', about: 'the site (what --site names)' },
  path: { kind: 'path', column: 'path', about: 'URL path without the query string; /api/* matches a prefix' },
  status: { kind: 'status', column: 'status', about: 'HTTP status, or a class such as 5xx' },
  method: { kind: 'label', column: 'method', about: 'HTTP method (GET, POST, ...)' },
  country: { kind: 'label', column: 'country', about: 'ISO 3166 country code of the client IP (GeoIP)' },
  browser: { kind: 'label', column: 'browser', about: 'browser family from the user agent' },
  os: { kind: 'label', column: 'os', about: 'operating system family from the user agent' },
  device_type: { kind: 'label', column: 'device_type', about: 'device type from the user agent (mobile, tablet, ...)' },
  is_bot: { kind: 'bool', column: 'is_bot', about: 'true for crawlers and tools, false for people' },
  bot_category: { kind: 'label', column: 'bot_category', about: 'the kind of bot (search, ai_training, ai_search, ai_assistant, seo, scanner, ...)' },
  referrer: { kind: 'label', column: 'domain(referer)', about: 'domain of the Referer header' },
  vhost: { kind: 'label', column: 'vhost', about: 'virtual host (server name), where the log format has one' },
} as const satisfies Record<string, { kind: FilterKind; column: string; about: string }>;

export type FilterField = keyof typeof filterFields;

export interface Filter {
  field: FilterField;
  /** True for `!=`. */
  negate: boolean;
  /** eq: equal; prefix: starts with (path=/api/*); class: status / 100 (status=5xx). */
  match: 'eq' | 'prefix' | 'class';
  value: string | number | boolean;
}

/** Where a filtered report read its rows. */
export type FilterSource = 'raw' | 'rollup' | 'raw-for-rollup';

export interface FilteredSql {
  sql: string;
  params: Record<string, string | number>;
  /** raw: the report reads access_log; rollup: the rollup took the filters; raw-for-rollup: the rollup lacks a field, the raw rows were aggregated instead. */
  source: FilterSource;
  /** The table the report reads (access_log, a rollup, rejects). */
  table: string;
  /** The fields the rollup lacks (raw-for-rollup). */
  missing: string[];
}

interface Rollup {
  /** The view's SELECT list, its FROM table and its GROUP BY. */
  select: string;
  from: string;
  groupBy: string;
  /** Filter fields the rollup keeps as plain columns. */
  dims: Set<string>;
}

/** The range a rollup row covers, to read only the raw rows near the report's range. */
const grains: Record<string, string> = { traffic_hourly: 'HOUR', pages_daily: 'DAY', traffic_monthly: 'MONTH' };

let cached: Map<string, Rollup> | undefined;

/** The rollups the reports read, from their materialized views in the migrations. */
export function rollups(): Map<string, Rollup> {
  if (cached) return cached;
  const out = new Map<string, Rollup>();
  const view = /^CREATE MATERIALIZED VIEW IF NOT EXISTS \w+ TO (\w+) AS\s+SELECT\s+([\s\S]+?)\s+FROM (\w+)\s+GROUP BY ([\w, ]+)$/;
  for (const m of loadMigrations()) {
    for (const st of m.statements) {
      const v = view.exec(st);
      if (!v) continue;
      const [, table = '', select = '', from = '', groupBy = ''] = v;
      const keys = new Set(groupBy.split(',').map((k) => k.trim()));
      const dims = new Set(Object.entries(filterFields).flatMap(([f, d]) => (keys.has(d.column) ? [f] : [])));
      out.set(table, { select, from, groupBy, dims });
    }
  }
  cached = out;
  return out;
}

const siteClause = "({site:String} = '' OR site = {site:String})";
const tableRead = /\bFROM (access_log|traffic_hourly|traffic_monthly|pages_daily|rejects)\b/g;

/** The one table a report reads (undefined: it reads none directly, e.g. it only includes shared SQL that does). */
export function tableOf(sql: string): string | undefined {
  const tables = new Set([...sql.matchAll(tableRead)].map((m) => m[1] as string));
  if (tables.size > 1) throw new WeblogError('QUERY_FAILED', `a report reads ${[...tables].join(' and ')}; filters need one table per report`);
  return [...tables][0];
}

/** The condition of the filters over the columns they name, with its bound parameters. */
export function filterCondition(filters: readonly Filter[], params: Record<string, string | number>, table: string): string {
  const parts: string[] = [];
  const anyOf = new Map<FilterField, string[]>();
  for (const f of filters) {
    const name = `wf${Object.keys(params).length}`;
    // Qualified: a report's SELECT may name a result `country` (min(country) AS country), which WHERE would otherwise take.
    const column = filterFields[f.field].column.replace(
      /\b(site|path|status|method|country|browser|os|device_type|is_bot|bot_category|referer|vhost)\b/,
      `${table}.$1`,
    );
    let test: string;
    if (f.match === 'class') {
      params[name] = Number(f.value);
      test = `intDiv(${column}, 100) = {${name}:UInt16}`;
    } else if (f.match === 'prefix') {
      params[name] = String(f.value);
      test = `startsWith(${column}, {${name}:String})`;
    } else if (typeof f.value === 'boolean') {
      params[name] = f.value ? 1 : 0;
      test = `${column} = {${name}:UInt8}`;
    } else if (typeof f.value === 'number') {
      params[name] = f.value;
      test = `${column} = {${name}:UInt16}`;
    } else {
      params[name] = f.value;
      test = `${column} = {${name}:String}`;
    }
    if (f.negate) parts.push(`NOT (${test})`);
    else anyOf.set(f.field, [...(anyOf.get(f.field) ?? []), test]);
  }
  for (const tests of anyOf.values()) parts.push(tests.length === 1 ? (tests[0] as string) : `(${tests.join(' OR ')})`);
  return parts.join(' AND ');
}

/**
 * A view's SELECT list with each -StateIf written -IfState: the view's
 * `countStateIf(c)` is a `count` state, which the rollup's
 * AggregateFunction(countIf, UInt8) column converts on insert; a subquery
 * standing for the rollup must have the column's own type (same state, same
 * numbers), or -IfMerge over it fails.
 */
export function stateTypes(select: string): string {
  return select.replace(/\b(\w+)StateIf\(/g, '$1IfState(');
}

/** The raw rows of a rollup's range aggregated as its view does, filtered: a subquery that stands for the rollup table. */
function rawFor(table: string, cond: string, grain: string): string {
  const r = rollups().get(table);
  if (!r) throw new WeblogError('QUERY_FAILED', `no materialized view fills ${table}`);
  if (r.from !== 'access_log') return `(SELECT ${stateTypes(r.select)} FROM ${rawFor(r.from, cond, grain)} GROUP BY ${r.groupBy})`;
  const near = `time >= {from:DateTime64(3, 'UTC')} - INTERVAL 1 ${grain}` + ` AND time < {to:DateTime64(3, 'UTC')} + INTERVAL 1 ${grain}`;
  return `(SELECT ${stateTypes(r.select)} FROM access_log WHERE ${near} AND ${cond} GROUP BY ${r.groupBy})`;
}

/** A report's SQL with the filters added (the SQL unchanged when there are none). */
export function filterReportSql(report: string, sql: string, filters: readonly Filter[]): FilteredSql {
  const table = tableOf(sql) ?? '';
  const rollup = rollups().get(table);
  if (filters.length === 0) return { sql, params: {}, source: rollup ? 'rollup' : 'raw', table, missing: [] };
  if (table === 'rejects' || table === '')
    throw new WeblogError('CONFIG_INVALID', `the ${report} report takes no filters: it reads ${table || 'no table'}, which has none of the filter fields`);
  if (sql.split(siteClause).length !== 2)
    throw new WeblogError('QUERY_FAILED', `the ${report} report does not say where its rows are chosen; filters cannot apply`);
  const params: Record<string, string | number> = {};
  const missing = rollup ? [...new Set(filters.map((f) => f.field).filter((f) => !rollup.dims.has(f)))] : [];
  if (rollup && missing.length > 0) {
    const grain = grains[table];
    if (!grain) throw new WeblogError('QUERY_FAILED', `no time grain known for ${table}`);
    const cond = filterCondition(filters, params, 'access_log');
    return {
      sql: sql.replace(new RegExp(`\\bFROM ${table}\\b`), () => `FROM ${rawFor(table, cond, grain)}`),
      params,
      source: 'raw-for-rollup',
      table,
      missing,
    };
  }
  const cond = filterCondition(filters, params, table);
  return { sql: sql.replace(siteClause, () => `${siteClause} AND ${cond}`), params, source: rollup ? 'rollup' : 'raw', table, missing: [] };
}
