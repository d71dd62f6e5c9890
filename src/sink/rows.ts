/**
 * An enriched record as one `access_log` row, with the provenance of the
 * line: as a JSONEachRow line, or written into a RowBuffer as TabSeparated
 * or RowBinary (what the processor inserts). The encoders are compiled, once
 * per dialect and format, from the column table (columns.ts, row-codegen.ts):
 * the column order, the INSERT column list and each value's encoding come
 * from there.
 */
import type { EnrichedRecord } from '../enrich/index.js';
import type { GeoInfo } from '../enrich/geoip.js';
import type { UaInfo } from '../enrich/useragent.js';
import { accessLogColumns, type Dialect, type Provenance, type Run } from './columns.js';
import { PartitionKeyer } from './partition.js';
import { RowBinaryBuffer } from './row-binary.js';
import { RowBuffer } from './row-buffer.js';
import { compileJson, compileRows, type Compiled, type Encoder, type RowFormat, type RunCache } from './row-codegen.js';

export { accessLogColumns, type Provenance, type RowFormat };

export interface RowOptions {
  /** The site column; default: the record's vhost. */
  site?: string | undefined;
  /**
   * 'modern' (default): the schema in clickhouse-schema/migrations.
   * 'legacy': ClickHouse 18.x test schema (DateTime seconds, no Map/Bool/IPv6).
   */
  dialect?: Dialect;
  /** The server's time zone, for the legacy schema's partition months (a DateTime without a zone). */
  timezone?: string | undefined;
  /** The rows' format (AccessLogRowWriter; default TabSeparated). */
  format?: RowFormat | undefined;
}

const compiled: Record<RowFormat, Record<Dialect, Compiled>> = {
  TabSeparated: { modern: compileRows('modern', 'TabSeparated'), legacy: compileRows('legacy', 'TabSeparated') },
  RowBinary: { modern: compileRows('modern', 'RowBinary'), legacy: compileRows('legacy', 'RowBinary') },
};
const json = { modern: compileJson('modern'), legacy: compileJson('legacy') };

// ---------------------------------------------------------------- encoders

/** The row as one JSONEachRow line. */
export function accessLogRow(r: EnrichedRecord, p: Provenance, opts: RowOptions = {}): string {
  return json[opts.dialect ?? 'modern'](r, p, opts.site);
}

/** An empty batch of rows in `format`. */
export function newRowBuffer(format: RowFormat, initialBytes?: number): RowBuffer {
  return format === 'RowBinary' ? new RowBinaryBuffer(initialBytes) : new RowBuffer(initialBytes);
}

/**
 * Appends the same row as accessLogRow to `b`, in the order of
 * accessLogColumns[dialect]: one TabSeparated line, or RowBinary when `b` is
 * a RowBinaryBuffer; both are read by every ClickHouse version.
 * Every field is encoded afresh; the processor uses AccessLogRowWriter, which
 * writes the same bytes and encodes repeating runs of fields once.
 */
export function writeAccessLogRow(b: RowBuffer, r: EnrichedRecord, p: Provenance, opts: RowOptions = {}): void {
  b.beginRow(p.offset, p.line);
  compiled[b instanceof RowBinaryBuffer ? 'RowBinary' : 'TabSeparated'][opts.dialect ?? 'modern'].fields(b, r, p, opts.site);
  b.endRow();
}

/**
 * Writes access_log rows like writeAccessLogRow, byte for byte, with the runs
 * of fields that repeat from row to row encoded once and copied after that:
 * - the user agent and its fields, per cached UaInfo object;
 * - the GeoIP fields, per cached GeoInfo object;
 * - source, and kafka_topic with kafka_partition, while they stay the same.
 * A run is copied only when the record still holds its object's values (a
 * record may be a modified copy); otherwise it is encoded field by field.
 * Memory: the encodings live as long as the enricher keeps their objects.
 */
export class AccessLogRowWriter implements RunCache {
  /** The format of the rows it writes (the INSERT's FORMAT). */
  readonly format: RowFormat;
  private readonly site: string | undefined;
  private readonly c: Compiled;
  private readonly run: Partial<Record<Run, Encoder>>;
  /** Per parsed user agent: the UA string the run was encoded with, and the run. */
  private readonly uaRuns = new WeakMap<UaInfo, { ua: string; run: Buffer }>();
  private readonly geoRuns = new WeakMap<GeoInfo, Buffer>();
  private lastSource: string | undefined;
  private lastSourceRun: Buffer = Buffer.alloc(0);
  private lastTopic: string | undefined;
  private lastPartition = -1;
  private lastTopicRun: Buffer = Buffer.alloc(0);
  private readonly keyer: PartitionKeyer;

  constructor(opts: RowOptions = {}) {
    const legacy = opts.dialect === 'legacy';
    this.format = opts.format ?? 'TabSeparated';
    this.c = compiled[this.format][opts.dialect ?? 'modern'];
    this.run = Object.fromEntries(this.c.segments.filter((s) => s.run).map((s) => [s.run, s.write]));
    this.site = opts.site;
    this.keyer = new PartitionKeyer(legacy ? (opts.timezone ?? 'UTC') : 'UTC');
  }

  /** An empty batch for this writer's rows. */
  newBuffer(initialBytes?: number): RowBuffer {
    return newRowBuffer(this.format, initialBytes);
  }

  /** Appends a row to `b`, which came from newBuffer(). */
  write(b: RowBuffer, r: EnrichedRecord, p: Provenance): void {
    b.beginRow(p.offset, p.line, this.keyer.keyOf(r.time));
    this.c.row(b, r, p, this.site, this);
    b.endRow();
  }

  /** The bytes of run `name` for this record, encoded afresh. */
  private encode(name: Run, r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer {
    const t = newRowBuffer(this.format, 256);
    (this.run[name] as Encoder)(t, r, p, site);
    return t.written();
  }

  uaRun(u: UaInfo, r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer {
    let e = this.uaRuns.get(u);
    if (e === undefined || e.ua !== r.user_agent) this.uaRuns.set(u, (e = { ua: r.user_agent, run: this.encode('ua', r, p, site) }));
    return e.run;
  }

  geoRun(g: GeoInfo, r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer {
    let run = this.geoRuns.get(g);
    if (run === undefined) this.geoRuns.set(g, (run = this.encode('geo', r, p, site)));
    return run;
  }

  sourceRun(r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer {
    if (p.source !== this.lastSource) {
      this.lastSource = p.source;
      this.lastSourceRun = this.encode('source', r, p, site);
    }
    return this.lastSourceRun;
  }

  topicRun(r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer {
    if (p.topic !== this.lastTopic || p.partition !== this.lastPartition) {
      this.lastTopic = p.topic;
      this.lastPartition = p.partition;
      this.lastTopicRun = this.encode('topic', r, p, site);
    }
    return this.lastTopicRun;
  }
}
