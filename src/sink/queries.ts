/**
 * The small questions the reports and the dashboard ask besides the report
 * SQL (clickhouse-schema/reports): SQL stays in the sink and the schema.
 */
import type { ClickHouse } from './clickhouse/types.js';

/** True when the database has an access_log table (weblog data). */
export async function hasAccessLog(ch: ClickHouse): Promise<boolean> {
  const [t] = await ch.query<{ c: string | number }>('SELECT count() AS c FROM system.tables WHERE database = currentDatabase() AND name = {table:String}', {
    table: 'access_log',
  });
  return Number(t?.c ?? 0) > 0;
}

/** Time of the newest row, epoch ms (0: none). */
export async function lastEventTime(ch: ClickHouse): Promise<number> {
  const [span] = await ch.query<{ last: string | number }>('SELECT toUnixTimestamp64Milli(max(time)) AS last FROM access_log');
  return Number(span?.last ?? 0);
}

/** Sites and the span of the hourly rollup (one row per site, hour and dimensions); first/last are ClickHouse DateTime text, null when empty. */
export async function trafficSpan(ch: ClickHouse): Promise<{ sites: string[]; first: string | null; last: string | null }> {
  const [row] = await ch.query<{ sites: string[]; first: string; last: string; n: string | number }>(
    'SELECT arraySort(groupUniqArray(site)) AS sites, toString(min(hour)) AS first, toString(max(hour) + 3599) AS last, count() AS n FROM traffic_hourly',
  );
  const has = Number(row?.n ?? 0) > 0;
  return { sites: row?.sites ?? [], first: has && row ? row.first : null, last: has && row ? row.last : null };
}

/** Resolves when ClickHouse answers a query. */
export async function ping(ch: ClickHouse): Promise<void> {
  await ch.query('SELECT 1 AS ok');
}
