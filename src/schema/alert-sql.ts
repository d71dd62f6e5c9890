/**
 * The values alert rules measure (src/alerts/rules.ts), over the raw rows of
 * one window [from, to), filtered like reports. Values are bound.
 */
import { sqlTime } from '../sink/clickhouse/sql.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';
import { filterCondition, type Filter } from './filters.js';

export type AlertMetricName = 'hits' | 'error_rate' | 'visitors' | 'ip_rate';

/** One measured value; `key` is the client IP for ip_rate, '' otherwise; `hits` the requests it stands on. */
export interface AlertValue {
  key: string;
  value: number;
  hits: number;
}

/** The metric over [from, to); ip_rate returns the IPs over `atLeast` requests per minute (at most 100, busiest first). */
export async function measureAlert(
  ch: ClickHouse,
  metric: AlertMetricName,
  where: readonly Filter[],
  from: number,
  to: number,
  atLeast = 0,
): Promise<AlertValue[]> {
  const params: Record<string, string | number> = { from: sqlTime(from), to: sqlTime(to) };
  const cond = where.length > 0 ? ` AND ${filterCondition(where, params, 'access_log')}` : '';
  const range = `access_log.time >= {from:DateTime64(3, 'UTC')} AND access_log.time < {to:DateTime64(3, 'UTC')}${cond}`;
  const minutes = (to - from) / 60_000;
  if (metric === 'ip_rate') {
    params.min = Math.floor(atLeast * minutes);
    const rows = await ch.query<{ key: string; hits: string | number }>(
      `SELECT IPv6NumToString(ip) AS key, count() AS hits FROM access_log WHERE ${range} GROUP BY ip HAVING hits > {min:UInt64} ORDER BY hits DESC, key LIMIT 100`,
      params,
    );
    return rows.map((r) => ({ key: r.key.replace(/^::ffff:/, ''), hits: Number(r.hits), value: Number(r.hits) / minutes }));
  }
  const [row] = await ch.query<{ hits: string | number; errors: string | number; visitors: string | number }>(
    `SELECT count() AS hits, countIf(access_log.status >= 500 AND access_log.status < 600) AS errors, uniqExact(access_log.visitor_id) AS visitors FROM access_log WHERE ${range}`,
    params,
  );
  const hits = Number(row?.hits ?? 0);
  const value = metric === 'hits' ? hits : metric === 'visitors' ? Number(row?.visitors ?? 0) : hits === 0 ? 0 : (100 * Number(row?.errors ?? 0)) / hits;
  return [{ key: '', value, hits }];
}
