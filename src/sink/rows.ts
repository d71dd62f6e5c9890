/**
 * An enriched record as one `access_log` row, with the provenance of the
 * line: as a JSONEachRow line (column names are the record's names), or as a
 * TabSeparated line written into a RowBuffer (what the processor inserts).
 */
import { geoSource, uaSource, type EnrichedRecord } from '../enrich/index.js';
import type { GeoInfo } from '../enrich/geoip.js';
import type { UaInfo } from '../enrich/useragent.js';
import { PartitionKeyer } from './partition.js';
import { RowBuffer, utcTimeText } from './row-buffer.js';

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

export interface RowOptions {
  /** The site column; default: the record's vhost. */
  site?: string | undefined;
  /**
   * 'modern' (default): the schema in clickhouse-schema/migrations.
   * 'legacy': ClickHouse 18.x test schema (DateTime seconds, no Map/Bool/IPv6).
   */
  dialect?: 'modern' | 'legacy';
  /** The server's time zone, for the legacy schema's partition months (a DateTime without a zone). */
  timezone?: string | undefined;
}

export function accessLogRow(r: EnrichedRecord, p: Provenance, opts: RowOptions = {}): string {
  const legacy = opts.dialect === 'legacy';
  // One explicit literal with conditional values: a conditional spread made
  // every row a dictionary-mode object and cost 4-7 µs per row in
  // JSON.stringify (node 20). JSON.stringify leaves out the undefined `extra`.
  return JSON.stringify({
    site: opts.site ?? r.vhost,
    time: legacy ? Math.floor(r.time / 1000) : utcTimeText(r.time),
    remote_addr: r.remote_addr,
    remote_user: r.remote_user,
    ip: r.ip === '' ? '::' : r.ip,
    ip_version: r.ip_version,
    is_private: legacy ? +r.is_private : r.is_private,
    is_loopback: legacy ? +r.is_loopback : r.is_loopback,
    request: r.request,
    method: r.method,
    url: r.url,
    path: r.path,
    query: r.query,
    protocol: r.protocol,
    status: r.status,
    bytes: r.bytes,
    referer: r.referer,
    user_agent: r.user_agent,
    vhost: r.vhost,
    request_time: r.request_time,
    upstream_response_time: r.upstream_response_time,
    x_forwarded_for: r.x_forwarded_for,
    extra: legacy ? undefined : (r.extra ?? noExtra),
    browser: r.browser,
    browser_version: r.browser_version,
    os: r.os,
    os_version: r.os_version,
    device_type: r.device_type,
    device_vendor: r.device_vendor,
    device_model: r.device_model,
    is_bot: legacy ? +r.is_bot : r.is_bot,
    country: r.country,
    region: r.region,
    city: r.city,
    latitude: r.latitude,
    longitude: r.longitude,
    asn: r.asn,
    as_org: r.as_org,
    ua_id: r.ua_id,
    visitor_id: r.visitor_id,
    source: p.source,
    source_offset: Math.max(0, p.sourceOffset), // -1: the producer sent no offset header
    kafka_topic: p.topic,
    kafka_partition: p.partition,
    kafka_offset: p.offset,
    kafka_line: p.line,
  });
}

const noExtra: Record<string, string> = Object.freeze({}) as Record<string, string>;

// ---------------------------------------------------------------- TabSeparated

const modernColumns: readonly string[] = [
  'site',
  'time',
  'remote_addr',
  'remote_user',
  'ip',
  'ip_version',
  'is_private',
  'is_loopback',
  'request',
  'method',
  'url',
  'path',
  'query',
  'protocol',
  'status',
  'bytes',
  'referer',
  'vhost',
  'request_time',
  'upstream_response_time',
  'x_forwarded_for',
  'extra',
  'user_agent',
  'browser',
  'browser_version',
  'os',
  'os_version',
  'device_type',
  'device_vendor',
  'device_model',
  'is_bot',
  'country',
  'region',
  'city',
  'latitude',
  'longitude',
  'asn',
  'as_org',
  'ua_id',
  'visitor_id',
  'source',
  'source_offset',
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
  'kafka_line',
];

/** Column order of writeAccessLogTsv rows, per dialect (INSERT INTO access_log (...) FORMAT TabSeparated). */
export const accessLogColumns: Record<'modern' | 'legacy', readonly string[]> = {
  modern: modernColumns,
  legacy: modernColumns.filter((c) => c !== 'extra'),
};

const escapes: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\', '\0': '\\0' };

const quotedSpecials = /[\t\n\r\\\0']/g;
const quotedEscape = (c: string) => (c === "'" ? "\\'" : (escapes[c] as string));
/** A Map(String, String) value: ClickHouse reads it from the TabSeparated stream with quoted-string rules, so it gets these escapes and no TSV layer on top. */
function mapLiteral(m: Record<string, string>): string {
  let out = '{';
  for (const k in m)
    out += `${out.length > 1 ? ',' : ''}'${k.replace(quotedSpecials, quotedEscape)}':'${(m[k] as string).replace(quotedSpecials, quotedEscape)}'`;
  return `${out}}`;
}

/**
 * Appends the same row as accessLogRow to `b` as one TabSeparated line, in the
 * order of accessLogColumns[dialect]; read by every ClickHouse version.
 * Every field is encoded afresh; the processor uses AccessLogTsvWriter, which
 * writes the same bytes and encodes repeating runs of fields once.
 */
export function writeAccessLogTsv(b: RowBuffer, r: EnrichedRecord, p: Provenance, opts: RowOptions = {}): void {
  const legacy = opts.dialect === 'legacy';
  b.beginRow(p.offset, p.line);
  writeLineFields(b, r, opts.site, legacy);
  writeUaFields(b, r, legacy);
  writeGeoFields(b, r);
  b.ascii(r.ua_id);
  b.tab();
  b.ascii(r.visitor_id);
  b.tab();
  b.strTab(p.source);
  b.uintTab(Math.max(0, p.sourceOffset));
  b.strTab(p.topic);
  b.uintTab(p.partition);
  b.uintTab(p.offset);
  b.uint(p.line);
  b.endRow();
}

/**
 * Writes access_log rows like writeAccessLogTsv, byte for byte, with the runs
 * of fields that repeat from row to row encoded once and copied after that:
 * - the user agent and its fields (user_agent, browser .. is_bot), per cached UaInfo object;
 * - the GeoIP fields (country .. as_org), per cached GeoInfo object;
 * - source, and kafka_topic with kafka_partition, while they stay the same.
 * A run is copied only when the record still holds its object's values (a
 * record may be a modified copy); otherwise it is encoded field by field.
 * Memory: the encodings live as long as the enricher keeps their objects.
 */
export class AccessLogTsvWriter {
  private readonly legacy: boolean;
  private readonly site: string | undefined;
  /** Per parsed user agent: the UA string the run was encoded with, and the run (user_agent .. is_bot). */
  private readonly uaRuns = new WeakMap<UaInfo, { ua: string; run: Buffer }>();
  private readonly geoRuns = new WeakMap<GeoInfo, Buffer>();
  private lastSource: string | undefined;
  private lastSourceRun: Buffer = Buffer.alloc(0);
  private lastTopic: string | undefined;
  private lastPartition = -1;
  private lastTopicRun: Buffer = Buffer.alloc(0);

  private readonly keyer: PartitionKeyer;

  constructor(opts: RowOptions = {}) {
    this.legacy = opts.dialect === 'legacy';
    this.site = opts.site;
    this.keyer = new PartitionKeyer(this.legacy ? (opts.timezone ?? 'UTC') : 'UTC');
  }

  write(b: RowBuffer, r: EnrichedRecord, p: Provenance): void {
    const legacy = this.legacy;
    b.beginRow(p.offset, p.line, this.keyer.keyOf(r.time));
    writeLineFields(b, r, this.site, legacy);

    const u = r[uaSource];
    if (u !== undefined && sameUa(r, u)) {
      // The user-agent string (often the longest field) comes with its parsed fields: copied, not encoded again.
      let e = this.uaRuns.get(u);
      if (e === undefined || e.ua !== r.user_agent) this.uaRuns.set(u, (e = { ua: r.user_agent, run: encodeRun((t) => writeUaFields(t, r, legacy)) }));
      b.raw(e.run);
    } else writeUaFields(b, r, legacy);

    const g = r[geoSource];
    if (g !== undefined && sameGeo(r, g)) {
      let run = this.geoRuns.get(g);
      if (run === undefined) this.geoRuns.set(g, (run = encodeRun((t) => writeGeoFields(t, r))));
      b.raw(run);
    } else writeGeoFields(b, r);

    b.ascii(r.ua_id);
    b.tab();
    b.ascii(r.visitor_id);
    b.tab();
    if (p.source !== this.lastSource) {
      this.lastSource = p.source;
      this.lastSourceRun = encodeRun((t) => t.strTab(p.source));
    }
    b.raw(this.lastSourceRun);
    b.uintTab(Math.max(0, p.sourceOffset));
    if (p.topic !== this.lastTopic || p.partition !== this.lastPartition) {
      this.lastTopic = p.topic;
      this.lastPartition = p.partition;
      this.lastTopicRun = encodeRun((t) => {
        t.strTab(p.topic);
        t.uintTab(p.partition);
      });
    }
    b.raw(this.lastTopicRun);
    b.uintTab(p.offset);
    b.uint(p.line);
    b.endRow();
  }
}

/** The bytes `write` produces, once. */
function encodeRun(write: (b: RowBuffer) => void): Buffer {
  const t = new RowBuffer(256);
  write(t);
  return t.written();
}

const sameUa = (r: EnrichedRecord, u: UaInfo) =>
  r.browser === u.browser &&
  r.browser_version === u.browser_version &&
  r.os === u.os &&
  r.os_version === u.os_version &&
  r.device_type === u.device_type &&
  r.device_vendor === u.device_vendor &&
  r.device_model === u.device_model &&
  r.is_bot === u.is_bot;

const sameGeo = (r: EnrichedRecord, g: GeoInfo) =>
  r.country === g.country &&
  r.region === g.region &&
  r.city === g.city &&
  r.latitude === g.latitude &&
  r.longitude === g.longitude &&
  r.asn === g.asn &&
  r.as_org === g.as_org;

/** site .. x_forwarded_for, then extra (modern only), each with its separator. */
function writeLineFields(b: RowBuffer, r: EnrichedRecord, site: string | undefined, legacy: boolean): void {
  b.strTab(site ?? r.vhost);
  if (legacy)
    b.epochSecondsTab(Math.floor(r.time / 1000)); // 18.x DateTime: 10-digit epoch seconds are unambiguous there
  else {
    b.utcTime(r.time);
    b.tab();
  }
  b.strTab(r.remote_addr);
  b.strTab(r.remote_user);
  b.strTab(r.ip === '' ? '::' : r.ip);
  b.uintTab(r.ip_version);
  bool(b, r.is_private, legacy);
  bool(b, r.is_loopback, legacy);
  b.strTab(r.request);
  b.strTab(r.method);
  b.strTab(r.url);
  b.strTab(r.path);
  b.strTab(r.query);
  b.strTab(r.protocol);
  b.uintTab(r.status);
  b.uintTab(r.bytes);
  b.strTab(r.referer);
  b.strTab(r.vhost);
  nullableNumber(b, r.request_time);
  b.strTab(r.upstream_response_time);
  b.strTab(r.x_forwarded_for);
  if (!legacy) {
    if (r.extra === null) b.ascii('{}');
    else b.utf8(mapLiteral(r.extra));
    b.tab();
  }
}

/** browser .. is_bot, each with its separator. */
function writeUaFields(b: RowBuffer, r: EnrichedRecord, legacy: boolean): void {
  b.strTab(r.user_agent);
  b.strTab(r.browser);
  b.strTab(r.browser_version);
  b.strTab(r.os);
  b.strTab(r.os_version);
  b.strTab(r.device_type);
  b.strTab(r.device_vendor);
  b.strTab(r.device_model);
  bool(b, r.is_bot, legacy);
}

/** country .. as_org, each with its separator. */
function writeGeoFields(b: RowBuffer, r: EnrichedRecord): void {
  b.strTab(r.country);
  b.strTab(r.region);
  b.strTab(r.city);
  nullableNumber(b, r.latitude);
  nullableNumber(b, r.longitude);
  b.uintTab(r.asn);
  b.strTab(r.as_org);
}

/** A boolean and its separator. */
function bool(b: RowBuffer, v: boolean, legacy: boolean): void {
  b.ascii(legacy ? (v ? '1\t' : '0\t') : v ? 'true\t' : 'false\t');
}

/** A Nullable number and its separator. */
function nullableNumber(b: RowBuffer, v: number | null): void {
  if (v === null || !Number.isFinite(v)) b.ascii('\\N\t');
  else {
    b.ascii(String(v));
    b.tab();
  }
}
