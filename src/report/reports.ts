/**
 * Reports: SQL files in clickhouse-schema/reports/NAME.sql with a `-- title:`
 * and `-- about:` header. Parameters ({from}, {to}, {site}, {limit}) are bound
 * as query parameters, never pasted into the SQL.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeblogError } from '../errors.js';
import { versionAtLeast } from '../schema/migrate.js';
import { MIN_SERVER_VERSION, type ClickHouse } from '../sink/clickhouse/types.js';

export const reportsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'clickhouse-schema', 'reports');

export interface ReportDef {
  name: string;
  title: string;
  about: string;
  sql: string;
}

export interface ReportParams {
  /** Inclusive start (epoch ms). Rollup reports round it down to their hour/day/month. */
  from?: number | undefined;
  /** Exclusive end (epoch ms). */
  to?: number | undefined;
  /** Only this site ('' or undefined: all). */
  site?: string | undefined;
  /** Rows for top-N reports (default 20). */
  limit?: number | undefined;
}

export interface ReportResult {
  def: ReportDef;
  params: Required<ReportParams>;
  columns: string[];
  rows: Record<string, unknown>[];
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
  const sql = readFileSync(file, 'utf8');
  const header = (key: string) => new RegExp(`^-- ${key}: (.*)$`, 'm').exec(sql)?.[1]?.trim() ?? '';
  return { name, title: header('title') || name, about: header('about'), sql };
}

/** ClickHouse DateTime64(3) text for a bound parameter. */
function chTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export const ALL_TIME = { from: Date.UTC(1970, 0, 1), to: Date.UTC(2106, 0, 1) };

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
  const [t] = await ch.query<{ c: string | number }>("SELECT count() AS c FROM system.tables WHERE database = currentDatabase() AND name = 'access_log'");
  if (Number(t?.c ?? 0) === 0)
    throw new WeblogError('NO_DATA', `no weblog data in ${ch.describe()}: it has no access_log table; run \`weblog run\` (or \`weblog process\`) first`);
}

export async function runReport(ch: ClickHouse, name: string, params: ReportParams = {}): Promise<ReportResult> {
  const def = loadReport(name);
  const p: Required<ReportParams> = {
    from: params.from ?? ALL_TIME.from,
    to: params.to ?? ALL_TIME.to,
    site: params.site ?? '',
    limit: params.limit ?? 20,
  };
  const bound: Record<string, string | number> = { from: chTime(p.from), to: chTime(p.to), site: p.site };
  if (def.sql.includes('{limit:')) bound.limit = p.limit;
  const rows = await ch.query<Record<string, unknown>>(def.sql, bound);
  const columns = rows[0] ? Object.keys(rows[0]) : [];
  return { def, params: p, columns, rows };
}
