/**
 * The access_log columns, once: name, ClickHouse type per dialect, how the
 * value is encoded and which record (or provenance) field it comes from.
 * This table is the INSERT column list, the order of the TabSeparated and
 * JSON encoders (sink/rows.ts compiles both from it) and, through the type
 * checks at the end, the field list of EnrichedRecord: a record field with
 * no column, or a column naming no field, does not compile. The migrations
 * stay SQL; a test checks this table against the migrated schema.
 *
 * Adding a column: one entry here and one migration (and the legacy one, or
 * `legacy: undefined` in `type` when 18.16 does not get it).
 */
import type { EnrichedRecord } from '../enrich/index.js';

/** Where a line came from; stored with its row. */
export interface Provenance {
  /** Object key or file the line came from ('' when unknown). */
  source: string;
  /** Byte offset of the line in its source. */
  sourceOffset: number;
  topic: string;
  partition: number;
  offset: number;
  /** Index of the line in its Kafka message (0 for one-line messages). */
  line: number;
}

/**
 * How a value is written (TabSeparated; JSON follows in brackets):
 * - string: escaped text;
 * - time: DateTime64(3) text, on legacy 10-digit epoch seconds [ISO text; epoch seconds];
 * - ip: the address, '::' when there is none;
 * - uint: decimal digits; offset: the same, -1 (unknown) as 0;
 * - bool: true/false, on legacy 1/0;
 * - number?: a Nullable number, \N for null;
 * - map: a Map(String, String) literal [an object];
 * - id: a decimal UInt64 held as a string (ASCII digits).
 */
export type Encoding = 'string' | 'time' | 'ip' | 'uint' | 'offset' | 'bool' | 'number?' | 'map' | 'id';

/**
 * Runs of adjacent columns the TabSeparated writer encodes once and copies
 * while they repeat: the user agent and its fields (per parsed UA), the
 * GeoIP fields (per looked-up address), the source, the topic and partition.
 */
export type Run = 'ua' | 'geo' | 'source' | 'topic';

export interface Column {
  name: string;
  type: { modern: string; legacy: string | undefined };
  enc: Encoding;
  /** `r.FIELD` (the enriched record), `p.FIELD` (provenance) or `site` (--site, else the vhost). */
  from: `r.${keyof RecordFields}` | `p.${keyof Provenance}` | 'site';
  run?: Run;
}

type RecordFields = Omit<EnrichedRecord, symbol>;

const LC = 'LowCardinality(String)';
const col = <F extends Column['from']>(name: string, modern: string, legacy: string | undefined, enc: Encoding, from: F, run?: Run): Column & { from: F } => ({
  name,
  type: { modern, legacy },
  enc,
  from,
  ...(run ? { run } : {}),
});

const table = [
  col('site', LC, 'String', 'string', 'site'),
  col('time', "DateTime64(3, 'UTC')", 'DateTime', 'time', 'r.time'),
  col('remote_addr', 'String', 'String', 'string', 'r.remote_addr'),
  col('remote_user', 'String', 'String', 'string', 'r.remote_user'),
  col('ip', 'IPv6', 'String', 'ip', 'r.ip'),
  col('ip_version', 'UInt8', 'UInt8', 'uint', 'r.ip_version'),
  col('is_private', 'Bool', 'UInt8', 'bool', 'r.is_private'),
  col('is_loopback', 'Bool', 'UInt8', 'bool', 'r.is_loopback'),
  col('request', 'String', 'String', 'string', 'r.request'),
  col('method', LC, 'String', 'string', 'r.method'),
  col('url', 'String', 'String', 'string', 'r.url'),
  col('path', 'String', 'String', 'string', 'r.path'),
  col('query', 'String', 'String', 'string', 'r.query'),
  col('protocol', LC, 'String', 'string', 'r.protocol'),
  col('status', 'UInt16', 'UInt16', 'uint', 'r.status'),
  col('bytes', 'UInt64', 'UInt64', 'uint', 'r.bytes'),
  col('referer', 'String', 'String', 'string', 'r.referer'),
  col('vhost', LC, 'String', 'string', 'r.vhost'),
  col('request_time', 'Nullable(Float32)', 'Nullable(Float32)', 'number?', 'r.request_time'),
  col('upstream_response_time', 'String', 'String', 'string', 'r.upstream_response_time'),
  col('x_forwarded_for', 'String', 'String', 'string', 'r.x_forwarded_for'),
  col('extra', 'Map(String, String)', undefined, 'map', 'r.extra'),
  col('user_agent', 'String', 'String', 'string', 'r.user_agent', 'ua'),
  col('browser', LC, 'String', 'string', 'r.browser', 'ua'),
  col('browser_version', LC, 'String', 'string', 'r.browser_version', 'ua'),
  col('os', LC, 'String', 'string', 'r.os', 'ua'),
  col('os_version', LC, 'String', 'string', 'r.os_version', 'ua'),
  col('device_type', LC, 'String', 'string', 'r.device_type', 'ua'),
  col('device_vendor', LC, 'String', 'string', 'r.device_vendor', 'ua'),
  col('device_model', LC, 'String', 'string', 'r.device_model', 'ua'),
  col('is_bot', 'Bool', 'UInt8', 'bool', 'r.is_bot', 'ua'),
  col('bot_category', LC, undefined, 'string', 'r.bot_category', 'ua'),
  col('bot_claim', LC, undefined, 'string', 'r.bot_claim'),
  col('bot_verified', 'Bool', undefined, 'bool', 'r.bot_verified'),
  col('country', LC, 'String', 'string', 'r.country', 'geo'),
  col('region', LC, 'String', 'string', 'r.region', 'geo'),
  col('city', LC, 'String', 'string', 'r.city', 'geo'),
  col('latitude', 'Nullable(Float32)', 'Nullable(Float32)', 'number?', 'r.latitude', 'geo'),
  col('longitude', 'Nullable(Float32)', 'Nullable(Float32)', 'number?', 'r.longitude', 'geo'),
  col('asn', 'UInt32', 'UInt32', 'uint', 'r.asn', 'geo'),
  col('as_org', LC, 'String', 'string', 'r.as_org', 'geo'),
  col('ua_id', 'UInt64', 'UInt64', 'id', 'r.ua_id'),
  col('visitor_id', 'UInt64', 'UInt64', 'id', 'r.visitor_id'),
  col('source', LC, 'String', 'string', 'p.source', 'source'),
  col('source_offset', 'UInt64', 'UInt64', 'offset', 'p.sourceOffset'),
  col('kafka_topic', LC, 'String', 'string', 'p.topic', 'topic'),
  col('kafka_partition', 'UInt16', 'UInt16', 'uint', 'p.partition', 'topic'),
  col('kafka_offset', 'UInt64', 'UInt64', 'uint', 'p.offset'),
  col('kafka_line', 'UInt32', 'UInt32', 'uint', 'p.line'),
] as const;

export const accessLogTable: readonly Column[] = table;

export type Dialect = 'modern' | 'legacy';

/** The columns a dialect has, in table order. */
export function columnsOf(dialect: Dialect): readonly Column[] {
  return dialect === 'modern' ? accessLogTable : accessLogTable.filter((c) => c.type.legacy !== undefined);
}

/**
 * The types RowBinary rows are read as (through input()): each column's own,
 * but String for LowCardinality(String). The server converts the whole block
 * to the table's types; a LowCardinality column filled value by value cost a
 * current server 2.6 µs more per row (bench/README.md, "Insert format").
 */
export function rowBinaryTypes(dialect: Dialect): string[] {
  return columnsOf(dialect).map((c) => (c.type[dialect] as string).replace(/^LowCardinality\((.*)\)$/, '$1'));
}

/** INSERT INTO access_log (...) column names, per dialect. */
export const accessLogColumns: Record<Dialect, readonly string[]> = {
  modern: columnsOf('modern').map((c) => c.name),
  legacy: columnsOf('legacy').map((c) => c.name),
};

// Every record field has a column: a field added to the record without one fails to compile here
// (vhost also feeds `site`; remote_addr keeps the raw address beside the normalised `ip`).
type Stored = (typeof table)[number]['from'] extends infer F ? (F extends `r.${infer K}` ? K : never) : never;
type Unstored = Exclude<keyof RecordFields, Stored>;
export const everyRecordFieldHasAColumn: [Unstored] extends [never] ? true : { missing: Unstored } = true;
