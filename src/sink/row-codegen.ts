/**
 * The access_log row encoders, compiled once per dialect and row format
 * from the column table (columns.ts): TabSeparated text and RowBinary into
 * a RowBuffer, and JSONEachRow lines. Each column's encoding and, for
 * RowBinary, its width come from its entry there; a column whose type an
 * encoding cannot write fails when this module loads.
 */
import { geoSource, uaSource, type EnrichedRecord } from '../enrich/index.js';
import type { GeoInfo } from '../enrich/geoip.js';
import type { UaInfo } from '../enrich/useragent.js';
import { columnsOf, type Column, type Dialect, type Provenance, type Run } from './columns.js';
import type { RowFormat } from './clickhouse/types.js';
import { utcTimeText, type RowBuffer } from './row-buffer.js';

export type { RowFormat };

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
  uaSource,
  geoSource,
};

/** The JavaScript expression of a column's value. */
function valueOf(c: Column): string {
  if (c.from === 'site') return '(site ?? r.vhost)';
  const [obj, field] = c.from.split('.') as [string, string];
  if (!/^[a-z_][A-Za-z_]*$/.test(field)) throw new Error(`column ${c.name}: bad field ${c.from}`);
  return `${obj}.${field}`;
}

/** Statements writing a column and its separator (none after the last) as TabSeparated. */
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

const uintWriter: Record<string, string> = { UInt8: 'u8', UInt16: 'u16', UInt32: 'u32', UInt64: 'u64' };

/** Statements writing a column as RowBinary (RowBinaryBuffer `b`), checked against the column's type. */
function binaryOf(c: Column, legacy: boolean): string {
  const v = valueOf(c);
  const type = (legacy ? c.type.legacy : c.type.modern) as string;
  const expect = (ok: boolean) => {
    if (!ok) throw new Error(`access_log column ${c.name}: RowBinary cannot write ${c.enc} as ${type}`);
  };
  switch (c.enc) {
    case 'string':
      expect(type === 'String' || type === 'LowCardinality(String)');
      return `b.bstr(${v});`;
    case 'time':
      expect(legacy ? type === 'DateTime' : type.startsWith('DateTime64(3'));
      return legacy ? `b.u32(Math.floor(${v} / 1000));` : `b.u64(${v});`;
    case 'ip':
      expect(type === 'IPv6' || type === 'String');
      return type === 'IPv6' ? `b.ipv6(${v});` : `b.bstr(${v} === '' ? '::' : ${v});`;
    case 'bool':
      expect(type === 'Bool' || type === 'UInt8');
      return `b.u8(${v} ? 1 : 0);`;
    case 'uint':
    case 'offset': {
      const w = uintWriter[type];
      expect(w !== undefined);
      return `b.${w as string}(${c.enc === 'offset' ? `Math.max(0, ${v})` : v});`;
    }
    case 'number?':
      expect(type === 'Nullable(Float32)');
      return `b.nullableF32(${v});`;
    case 'map':
      expect(type === 'Map(String, String)');
      return `b.stringMap(${v});`;
    case 'id':
      expect(type === 'UInt64');
      return `b.u64Decimal(${v});`;
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

export type Encoder = (b: RowBuffer, r: EnrichedRecord, p: Provenance, site: string | undefined) => void;

function compile(body: string): Encoder {
  return new Function('h', `return function (b, r, p, site) { ${body} }`)(h) as Encoder;
}

/** A dialect's columns cut into segments: the runs (columns.ts) and the columns between them. */
export interface Segment {
  run: Run | undefined;
  columns: Column[];
  write: Encoder;
}

/** The writer state a compiled row reads its cached runs from (AccessLogRowWriter). */
export interface RunCache {
  uaRun(u: UaInfo, r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer;
  geoRun(g: GeoInfo, r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer;
  sourceRun(r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer;
  topicRun(r: EnrichedRecord, p: Provenance, site: string | undefined): Buffer;
}

/** One whole row, runs copied from the cache when the record still holds their values. */
export type RowWriter = (b: RowBuffer, r: EnrichedRecord, p: Provenance, site: string | undefined, w: RunCache) => void;

export interface Compiled {
  segments: Segment[];
  /** Every column, field by field. */
  fields: Encoder;
  /**
   * Every column, with the runs copied from `w`: one function, so V8 inlines
   * the RowBuffer calls and the record's field loads stay monomorphic (a call
   * per segment through one call site was megamorphic).
   */
  row: RowWriter;
}

function segmentsOf(cols: readonly Column[]): { run: Run | undefined; columns: Column[] }[] {
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
  return out;
}

/** `a === b && ...` of the record's fields against their cached object `o`'s. */
function sameAs(cols: Column[], o: string, skip: string[]): string {
  const checks = cols.filter((c) => c.from.startsWith('r.') && !skip.includes(c.from)).map((c) => `${valueOf(c)} === ${o}.${c.from.slice(2)}`);
  return checks.join(' && ') || 'true';
}

/** The row encoders of a dialect in a format. */
export function compileRows(dialect: Dialect, format: RowFormat): Compiled {
  const legacy = dialect === 'legacy';
  const cols = columnsOf(dialect);
  const lastCol = cols[cols.length - 1];
  const fields = (cs: readonly Column[]) => cs.map((c) => (format === 'RowBinary' ? binaryOf(c, legacy) : tsvOf(c, legacy, c === lastCol))).join('\n');
  const parts = segmentsOf(cols);
  const body = parts.map((s) => {
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
  return {
    segments: parts.map((s) => ({ ...s, write: compile(fields(s.columns)) })),
    fields: compile(fields(cols)),
    row: new Function('h', `return function (b, r, p, site, w) { ${body.join('\n')} }`)(h) as RowWriter,
  };
}

/** The JSONEachRow line of a dialect's row. */
export function compileJson(dialect: Dialect): (r: EnrichedRecord, p: Provenance, site: string | undefined) => string {
  const legacy = dialect === 'legacy';
  // One explicit object literal per dialect: a conditional spread made every row a dictionary-mode
  // object and cost 4-7 µs per row in JSON.stringify (node 20).
  return new Function(
    'h',
    `return function (r, p, site) { return JSON.stringify({ ${columnsOf(dialect)
      .map((c) => `${c.name}: ${jsonOf(c, legacy)}`)
      .join(', ')} }); }`,
  )(h) as (r: EnrichedRecord, p: Provenance, site: string | undefined) => string;
}
