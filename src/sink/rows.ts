/**
 * An enriched record as one JSONEachRow line for the `access_log` table,
 * with the provenance of the line. Column names are the record's names.
 */
import type { EnrichedRecord } from '../enrich/index.js';

export interface Provenance {
  /** Object key or file the line came from ('' when unknown). */
  source: string;
  /** Byte offset of the line in its source. */
  sourceOffset: number;
  topic: string;
  partition: number;
  offset: number;
}

export interface RowOptions {
  /** The site column; default: the record's vhost. */
  site?: string | undefined;
  /**
   * 'modern' (default): the schema in clickhouse-schema/migrations.
   * 'legacy': ClickHouse 18.x test schema (DateTime seconds, no Map/Bool/IPv6).
   */
  dialect?: 'modern' | 'legacy';
}

export function accessLogRow(r: EnrichedRecord, p: Provenance, opts: RowOptions = {}): string {
  const legacy = opts.dialect === 'legacy';
  return JSON.stringify({
    site: opts.site ?? r.vhost,
    time: legacy ? Math.floor(r.time / 1000) : r.time,
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
    ...(legacy ? {} : { extra: r.extra ?? {} }),
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
  });
}
