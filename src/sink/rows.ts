/**
 * An enriched record as one `access_log` row, with the provenance of the
 * line: as a JSONEachRow line, or as a TabSeparated line written into a
 * RowBuffer (what the processor inserts). Both encoders are compiled, once
 * per dialect, from the column table (columns.ts): the column order, the
 * INSERT column list and each value's encoding come from there.
 */
import { geoSource, uaSource, type EnrichedRecord } from '../enrich/index.js';
import type { GeoInfo } from '../enrich/geoip.js';
import type { UaInfo } from '../enrich/useragent.js';
import { accessLogColumns, columnsOf, type Column, type Dialect, type Provenance, type Run } from './columns.js';
import { PartitionKeyer } from './partition.js';
import { RowBuffer, utcTimeText } from './row-buffer.js';

export { accessLogColumns, type Provenance };

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
}

const escapes: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\', '\0': '\\0' };
const quotedSpecials = /[\t\n\r\\\0']/g;
const quotedEscape = (c: string) => (c === "'" ? "\\'" : (escapes[c] as string));

/** The helpers compiled encoders call. */
const h = {
  /** A Map(String, String) value: ClickHouse reads it from the TabSeparated stream with quoted-string rules, so it gets these escapes and no TSV layer on top. */
  mapLiteral(m: Record<string, string>): string {
    let out = '{';
    for (const k in m)
      out += `${out.length > 1 ? ',' : ''}'${k.replace(quotedSpecials, quotedEscape)}':'${(m[k] as string).replace(quotedSpecials, quotedEscape)}'`;
    return `${out}}`;
  },
  /** A Nullable number and its separator. */
  nullableNumber(b: RowBuffer, v: number | null): void {
    if (v === null || !Number.isFinite(v)) b.ascii('\\N\t');
    else {
      b.ascii(String(v));
      b.tab();
    }
  },
  utcTimeText,
  noExtra: Object.freeze({}) as Record<string, string>,
};

// ---------------------------------------------------------------- code generation

/** The JavaScript expression of a column's value. */
function valueOf(c: Column): string {
  if (c.from === 'site') return '(site ?? r.vhost)';
  const [obj, field] = c.from.split('.') as [string, string];
  if (!/^[a-z_][A-Za-z_]*$/.test(field)) throw new Error(`column ${c.name}: bad field ${c.from}`);
  return `${obj}.${field}`;
}

/** Statements writing a column and its separator (none after the last) into RowBuffer `b`. */
function tsvOf(c: Column, legacy: boolean, last: boolean): string {
  const v = valueOf(c);
  if (last) {
    if (c.enc !== 'uint') throw new Error(`the last access_log column (${c.name}) must be a uint: it is written without a separator`);
    return `b.uint(${v});`;
  }
  switch (c.enc) {
    case 'string':
      return `b.strTab(${v});`;
    case 'time':
      // 18.x DateTime: 10-digit epoch seconds are unambiguous there
      return legacy ? `b.epochSecondsTab(Math.floor(${v} / 1000));` : `b.utcTime(${v}); b.tab();`;
    case 'ip':
      return `b.strTab(${v} === '' ? '::' : ${v});`;
    case 'uint':
      return `b.uintTab(${v});`;
    case 'offset':
      return `b.uintTab(Math.max(0, ${v}));`;
    case 'bool':
      return legacy ? `b.ascii(${v} ? '1\\t' : '0\\t');` : `b.ascii(${v} ? 'true\\t' : 'false\\t');`;
    case 'number?':
      return `h.nullableNumber(b, ${v});`;
    case 'map':
      return `if (${v} === null) b.ascii('{}'); else b.utf8(h.mapLiteral(${v})); b.tab();`;
    case 'id':
      return `b.ascii(${v}); b.tab();`;
  }
}

/** The JSON value expression of a column (JSONEachRow reads columns by name). */
function jsonOf(c: Column, legacy: boolean): string {
  const v = valueOf(c);
  switch (c.enc) {
    case 'time':
      return legacy ? `Math.floor(${v} / 1000)` : `h.utcTimeText(${v})`;
    case 'ip':
      return `(${v} === '' ? '::' : ${v})`;
    case 'offset':
      return `Math.max(0, ${v})`; // -1: the producer sent no offset header
    case 'bool':
      return legacy ? `+${v}` : v;
    case 'map':
      return `(${v} ?? h.noExtra)`;
    default:
      return v;
  }
}

type Encoder = (b: RowBuffer, r: EnrichedRecord, p: Provenance, site: string | undefined) => void;

function compile(body: string): Encoder {
  return new Function('h', `return function (b, r, p, site) { ${body} }`)(h) as Encoder;
}

/** A dialect's columns cut into segments: the runs (columns.ts) and the columns between them. */
interface Segment {
  run: Run | undefined;
  columns: Column[];
  write: Encoder;
}

function segmentsOf(dialect: Dialect): Segment[] {
  const cols = columnsOf(dialect);
  const out: { run: Run | undefined; columns: Column[] }[] = [];
  for (const c of cols) {
    const last = out.at(-1);
    if (last && last.run === c.run) last.columns.push(c);
    else out.push({ run: c.run, columns: [c] });
  }
  const seen = new Set<Run>();
  // The writer caches these two runs by provenance alone: they may hold nothing else.
  const only: Partial<Record<Run, string[]>> = { source: ['p.source'], topic: ['p.topic', 'p.partition'] };
  for (const s of out)
    if (s.run) {
      const allowed = only[s.run];
      for (const c of s.columns)
        if (allowed && !allowed.includes(c.from)) throw new Error(`access_log column ${c.name} cannot be in run "${s.run}" (cached by ${allowed.join(', ')})`);
      if (seen.has(s.run)) throw new Error(`access_log columns of run "${s.run}" must be adjacent in columns.ts`);
      seen.add(s.run);
    }
  const legacy = dialect === 'legacy';
  const lastCol = cols[cols.length - 1];
  return out.map((s) => ({ ...s, write: compile(s.columns.map((c) => tsvOf(c, legacy, c === lastCol)).join('\n')) }));
}

/** The writer state a compiled row reads its cached runs from (AccessLogTsvWriter). */
interface RunCache {
  uaRun(u: UaInfo, r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer;
  geoRun(g: GeoInfo, r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer;
  sourceRun(r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer;
  topicRun(r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer;
}

/** One whole row, runs copied from the cache when the record still holds their values. */
type RowWriter = (b: RowBuffer, r: EnrichedRecord, p: Provenance, site: string | undefined, w: RunCache) => void;

interface Compiled {
  segments: Segment[];
  /** Every column, field by field. */
  tsv: Encoder;
  /**
   * Every column, with the runs copied from `w`: one function, so V8 inlines
   * the RowBuffer calls and the record's field loads stay monomorphic (a call
   * per segment through one call site was megamorphic).
   */
  row: RowWriter;
  json: (r: EnrichedRecord, p: Provenance, site: string | undefined) => string;
}

/** `a === b && ...` of the record's fields against their cached object `o`'s. */
function sameAs(cols: Column[], o: string, skip: string[]): string {
  const checks = cols.filter((c) => c.from.startsWith('r.') && !skip.includes(c.from)).map((c) => `${valueOf(c)} === ${o}.${c.from.slice(2)}`);
  return checks.join(' && ') || 'true';
}

function rowWriterOf(segments: Segment[], legacy: boolean, lastCol: Column | undefined): RowWriter {
  const fields = (cols: Column[]) => cols.map((c) => tsvOf(c, legacy, c === lastCol)).join('\n');
  const body = segments.map((s) => {
    switch (s.run) {
      case undefined:
        return fields(s.columns);
      case 'ua':
        // The user-agent string (often the longest field) comes with its parsed fields: copied, not encoded again.
        return `{ const u = r[h.uaSource]; if (u !== undefined && ${sameAs(s.columns, 'u', ['r.user_agent'])}) b.raw(w.uaRun(u, r, p, site)); else { ${fields(s.columns)} } }`;
      case 'geo':
        return `{ const g = r[h.geoSource]; if (g !== undefined && ${sameAs(s.columns, 'g', [])}) b.raw(w.geoRun(g, r, p, site)); else { ${fields(s.columns)} } }`;
      case 'source':
        return 'b.raw(w.sourceRun(r, p, site));';
      case 'topic':
        return 'b.raw(w.topicRun(r, p, site));';
    }
  });
  return new Function('h', `return function (b, r, p, site, w) { ${body.join('\n')} }`)({ ...h, uaSource, geoSource }) as RowWriter;
}

function compileDialect(dialect: Dialect): Compiled {
  const legacy = dialect === 'legacy';
  const cols = columnsOf(dialect);
  const lastCol = cols[cols.length - 1];
  const segments = segmentsOf(dialect);
  // One explicit object literal per dialect: a conditional spread made every row a dictionary-mode
  // object and cost 4-7 µs per row in JSON.stringify (node 20).
  const json = new Function(
    'h',
    `return function (r, p, site) { return JSON.stringify({ ${cols.map((c) => `${c.name}: ${jsonOf(c, legacy)}`).join(', ')} }); }`,
  )(h) as Compiled['json'];
  return {
    segments,
    tsv: compile(cols.map((c) => tsvOf(c, legacy, c === lastCol)).join('\n')),
    row: rowWriterOf(segments, legacy, lastCol),
    json,
  };
}

const compiled: Record<Dialect, Compiled> = { modern: compileDialect('modern'), legacy: compileDialect('legacy') };

// ---------------------------------------------------------------- encoders

/** The row as one JSONEachRow line. */
export function accessLogRow(r: EnrichedRecord, p: Provenance, opts: RowOptions = {}): string {
  return compiled[opts.dialect ?? 'modern'].json(r, p, opts.site);
}

/**
 * Appends the same row as accessLogRow to `b` as one TabSeparated line, in the
 * order of accessLogColumns[dialect]; read by every ClickHouse version.
 * Every field is encoded afresh; the processor uses AccessLogTsvWriter, which
 * writes the same bytes and encodes repeating runs of fields once.
 */
export function writeAccessLogTsv(b: RowBuffer, r: EnrichedRecord, p: Provenance, opts: RowOptions = {}): void {
  b.beginRow(p.offset, p.line);
  compiled[opts.dialect ?? 'modern'].tsv(b, r, p, opts.site);
  b.endRow();
}

/** The bytes `write` produces, once. */
function encodeRun(write: (b: RowBuffer) => void): Buffer {
  const t = new RowBuffer(256);
  write(t);
  return t.written();
}

/**
 * Writes access_log rows like writeAccessLogTsv, byte for byte, with the runs
 * of fields that repeat from row to row encoded once and copied after that:
 * - the user agent and its fields, per cached UaInfo object;
 * - the GeoIP fields, per cached GeoInfo object;
 * - source, and kafka_topic with kafka_partition, while they stay the same.
 * A run is copied only when the record still holds its object's values (a
 * record may be a modified copy); otherwise it is encoded field by field.
 * Memory: the encodings live as long as the enricher keeps their objects.
 */
export class AccessLogTsvWriter implements RunCache {
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
    this.c = compiled[opts.dialect ?? 'modern'];
    this.run = Object.fromEntries(this.c.segments.filter((s) => s.run).map((s) => [s.run, s.write]));
    this.site = opts.site;
    this.keyer = new PartitionKeyer(legacy ? (opts.timezone ?? 'UTC') : 'UTC');
  }

  write(b: RowBuffer, r: EnrichedRecord, p: Provenance): void {
    b.beginRow(p.offset, p.line, this.keyer.keyOf(r.time));
    this.c.row(b, r, p, this.site, this);
    b.endRow();
  }

  /** The bytes of run `name` for this record, encoded afresh. */
  private encode(name: Run, r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer {
    const write = this.run[name] as Encoder;
    return encodeRun((t) => write(t, r, p, site));
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
