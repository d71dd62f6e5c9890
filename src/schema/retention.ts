/**
 * How long raw rows stay: a TTL on access_log (by the line's time) and on
 * rejects (by when weblog received the line). The rollups keep everything,
 * so reports on them still cover the whole history; reports on the raw table
 * say when their range reaches past what is kept (reports.ts).
 */
import { WeblogError } from '../errors.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';

const DAY_MS = 86_400_000;

/** The tables with raw rows, and the time each row is kept by. */
const rawTables = [
  { table: 'access_log', time: 'time' },
  { table: 'rejects', time: 'received_at' },
] as const;

/**
 * `--raw-ttl`: whole days ("30d", "30"), weeks ("12w"), or "off" / "0" for
 * no limit. Returns the days, 0 for no limit.
 */
export function parseRawTtl(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === '0' || t === '0d') return 0;
  const m = /^(\d{1,5})\s*(d|w)?$/.exec(t);
  const days = m ? Number(m[1]) * (m[2] === 'w' ? 7 : 1) : NaN;
  if (!(days >= 1 && days <= 36_500))
    throw new WeblogError('CONFIG_INVALID', `--raw-ttl: expected days (30d), weeks (12w) or off, from 1 day to 100 years; got "${text}"`);
  return days;
}

/** Sets (days > 0) or removes (0) the TTL of the raw tables; the rollups are not touched. */
export async function setRawTtl(ch: ClickHouse, days: number): Promise<void> {
  await ch.detect();
  if (ch.dialect === 'legacy')
    throw new WeblogError('SERVER_TOO_OLD', `${ch.describe()} is ClickHouse ${ch.version}: --raw-ttl needs table TTLs (ClickHouse 19.6 or newer)`);
  for (const { table, time } of rawTables) {
    if (days > 0) await ch.exec(`ALTER TABLE ${table} MODIFY TTL toDateTime(${time}) + toIntervalDay(${Math.floor(days)})`);
    else if ((await rawTtlOf(ch, table)) !== undefined) await ch.exec(`ALTER TABLE ${table} REMOVE TTL`);
  }
}

async function rawTtlOf(ch: ClickHouse, table: string): Promise<number | undefined> {
  const [row] = await ch.query<{ e: string }>(`SELECT engine_full AS e FROM system.tables WHERE database = currentDatabase() AND name = '${table}'`);
  const m = /\bTTL\b.*?toIntervalDay\((\d+)\)/.exec(row?.e ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Days access_log keeps its rows, or undefined when it keeps them all (or the server has no TTLs). */
export async function rawRetentionDays(ch: ClickHouse): Promise<number | undefined> {
  if (ch.dialect === 'legacy') return undefined;
  return rawTtlOf(ch, 'access_log');
}

/** The oldest time still held when rows are kept `days` days (whole UTC days, as the TTL deletes by the second). */
export function retainedSince(days: number, now = Date.now()): number {
  return now - days * DAY_MS;
}
