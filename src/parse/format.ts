/**
 * Log formats: the named ones and custom nginx `log_format` / Apache
 * `LogFormat` strings, compiled to a list of literal and field tokens that
 * the scanner (scan.ts) walks left to right.
 */
import { WeblogError } from '../errors.js';
import type { AccessRecord } from './record.js';

/** How a field's text becomes a value. */
export type FieldKind =
  | 'string'
  | 'time_clf' // 10/Oct/2000:13:55:36 -0700
  | 'time_iso' // 2000-10-10T13:55:36-07:00
  | 'time_msec' // 971211336.123 (epoch seconds)
  | 'request' // GET /path HTTP/1.1
  | 'status'
  | 'bytes'
  | 'seconds' // float seconds
  | 'millis' // integer milliseconds
  | 'micros' // integer microseconds
  | 'skip'; // matched but not kept (ident)

/** Record keys a field may fill directly. */
export type TargetKey = Exclude<keyof AccessRecord, 'extra' | 'time' | 'request_time' | 'status' | 'bytes'>;

export interface FieldSpec {
  /** The variable as written in the format (`$status`, `%>s`). */
  variable: string;
  kind: FieldKind;
  /** Record key for kind `string`; for unknown variables null (goes to `extra`). */
  target: TargetKey | null;
  /** Key in `extra` when target is null. */
  extraName: string;
}

export type Token = { type: 'literal'; text: string } | { type: 'field'; field: FieldSpec; quoted: boolean };

export interface CompiledFormat {
  name: string;
  source: string;
  tokens: Token[];
  /** Index of the first token that may be missing at end of line (trailing optional fields). */
  optionalFrom: number;
  /** True when some field lands in `extra`. */
  hasExtra: boolean;
}

const f = (variable: string, kind: FieldKind, target: TargetKey | null = null, extraName = ''): FieldSpec => ({
  variable,
  kind,
  target,
  extraName,
});

// ------------------------------------------------------------------ nginx
const nginxVars: Record<string, Omit<FieldSpec, 'variable'>> = {
  remote_addr: { kind: 'string', target: 'remote_addr', extraName: '' },
  remote_user: { kind: 'string', target: 'remote_user', extraName: '' },
  time_local: { kind: 'time_clf', target: null, extraName: '' },
  time_iso8601: { kind: 'time_iso', target: null, extraName: '' },
  msec: { kind: 'time_msec', target: null, extraName: '' },
  request: { kind: 'request', target: null, extraName: '' },
  status: { kind: 'status', target: null, extraName: '' },
  body_bytes_sent: { kind: 'bytes', target: null, extraName: '' },
  bytes_sent: { kind: 'bytes', target: null, extraName: '' },
  http_referer: { kind: 'string', target: 'referer', extraName: '' },
  http_user_agent: { kind: 'string', target: 'user_agent', extraName: '' },
  http_x_forwarded_for: { kind: 'string', target: 'x_forwarded_for', extraName: '' },
  request_time: { kind: 'seconds', target: null, extraName: '' },
  upstream_response_time: { kind: 'string', target: 'upstream_response_time', extraName: '' },
  host: { kind: 'string', target: 'vhost', extraName: '' },
  http_host: { kind: 'string', target: 'vhost', extraName: '' },
  server_name: { kind: 'string', target: 'vhost', extraName: '' },
  request_method: { kind: 'string', target: 'method', extraName: '' },
  request_uri: { kind: 'string', target: 'url', extraName: '' },
  uri: { kind: 'string', target: 'path', extraName: '' },
  args: { kind: 'string', target: 'query', extraName: '' },
  query_string: { kind: 'string', target: 'query', extraName: '' },
  server_protocol: { kind: 'string', target: 'protocol', extraName: '' },
};

function nginxField(name: string): FieldSpec {
  const known = Object.hasOwn(nginxVars, name) ? nginxVars[name] : undefined;
  return known ? { variable: `$${name}`, ...known } : f(`$${name}`, 'string', null, name);
}

// ------------------------------------------------------------------ Apache
const apacheLetters: Record<string, Omit<FieldSpec, 'variable'>> = {
  h: { kind: 'string', target: 'remote_addr', extraName: '' },
  a: { kind: 'string', target: 'remote_addr', extraName: '' },
  l: { kind: 'skip', target: null, extraName: 'ident' },
  u: { kind: 'string', target: 'remote_user', extraName: '' },
  t: { kind: 'time_clf', target: null, extraName: '' },
  r: { kind: 'request', target: null, extraName: '' },
  s: { kind: 'status', target: null, extraName: '' },
  b: { kind: 'bytes', target: null, extraName: '' },
  B: { kind: 'bytes', target: null, extraName: '' },
  O: { kind: 'bytes', target: null, extraName: '' },
  D: { kind: 'micros', target: null, extraName: '' },
  T: { kind: 'seconds', target: null, extraName: '' },
  v: { kind: 'string', target: 'vhost', extraName: '' },
  V: { kind: 'string', target: 'vhost', extraName: '' },
  m: { kind: 'string', target: 'method', extraName: '' },
  U: { kind: 'string', target: 'path', extraName: '' },
  q: { kind: 'string', target: 'query', extraName: '' },
  H: { kind: 'string', target: 'protocol', extraName: '' },
  p: { kind: 'string', target: null, extraName: 'server_port' },
  I: { kind: 'string', target: null, extraName: 'bytes_received' },
  P: { kind: 'string', target: null, extraName: 'pid' },
  k: { kind: 'string', target: null, extraName: 'keepalive_requests' },
  L: { kind: 'string', target: null, extraName: 'log_id' },
  X: { kind: 'string', target: null, extraName: 'connection_status' },
  A: { kind: 'string', target: null, extraName: 'local_addr' },
  f: { kind: 'string', target: null, extraName: 'filename' },
  R: { kind: 'string', target: null, extraName: 'handler' },
  S: { kind: 'string', target: null, extraName: 'bytes_transferred' },
};

const snake = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '_');

function apacheField(letter: string, arg: string | undefined, raw: string): FieldSpec {
  if (arg !== undefined) {
    const name = snake(arg);
    if (letter === 'i') {
      if (name === 'referer') return f(raw, 'string', 'referer');
      if (name === 'user_agent') return f(raw, 'string', 'user_agent');
      if (name === 'x_forwarded_for') return f(raw, 'string', 'x_forwarded_for');
      if (name === 'host') return f(raw, 'string', 'vhost');
      return f(raw, 'string', null, `http_${name}`);
    }
    if (letter === 'T') {
      if (arg === 'ms') return f(raw, 'millis');
      if (arg === 'us') return f(raw, 'micros');
      if (arg === 's') return f(raw, 'seconds');
    }
    if (letter === 't') return f(raw, 'time_clf'); // %{format}t: only the default CLF layout is understood
    const prefix: Record<string, string> = { o: 'sent_http_', e: 'env_', n: 'note_', C: 'cookie_', c: 'conn_', a: 'client_', p: 'port_' };
    return f(raw, 'string', null, `${Object.hasOwn(prefix, letter) ? prefix[letter] : `${letter}_`}${name}`);
  }
  const known = Object.hasOwn(apacheLetters, letter) ? apacheLetters[letter] : undefined;
  if (!known) return f(raw, 'string', null, `apache_${letter}`);
  return { variable: raw, ...known };
}

// ------------------------------------------------------------------ compiling
type Piece = { type: 'literal'; text: string } | { type: 'field'; field: FieldSpec };

function parseNginx(source: string): Piece[] {
  const pieces: Piece[] = [];
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g;
  let last = 0;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    if (m.index > last) pieces.push({ type: 'literal', text: source.slice(last, m.index) });
    pieces.push({ type: 'field', field: nginxField((m[1] ?? m[2]) as string) });
    last = re.lastIndex;
  }
  if (last < source.length) pieces.push({ type: 'literal', text: source.slice(last) });
  return pieces;
}

function parseApache(source: string): Piece[] {
  // Config files write quotes as \" inside the LogFormat string.
  const s = source.replace(/\\"/g, '"').replace(/\\t/g, '\t');
  const pieces: Piece[] = [];
  const re = /%(?:!?[0-9,]+)?[<>]?(?:\{([^}]*)\})?([a-zA-Z%])/g;
  let last = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index > last) pieces.push({ type: 'literal', text: s.slice(last, m.index) });
    const letter = m[2] as string;
    if (letter === '%') pieces.push({ type: 'literal', text: '%' });
    else if (letter === 't' && m[1] === undefined) {
      // %t writes its own brackets.
      pieces.push({ type: 'literal', text: '[' }, { type: 'field', field: apacheField('t', undefined, m[0]) }, { type: 'literal', text: ']' });
    } else pieces.push({ type: 'field', field: apacheField(letter, m[1], m[0]) });
    last = re.lastIndex;
  }
  if (last < s.length) pieces.push({ type: 'literal', text: s.slice(last) });
  return pieces;
}

function build(name: string, source: string, pieces: Piece[], optionalFields = 0): CompiledFormat {
  // Merge adjacent literals.
  const merged: Piece[] = [];
  for (const p of pieces) {
    const prev = merged[merged.length - 1];
    if (p.type === 'literal' && prev?.type === 'literal') prev.text += p.text;
    else merged.push(p.type === 'literal' ? { ...p } : p);
  }
  const tokens: Token[] = [];
  for (let i = 0; i < merged.length; i++) {
    const p = merged[i] as Piece;
    if (p.type === 'literal') {
      tokens.push(p);
      continue;
    }
    const before = merged[i - 1];
    const after = merged[i + 1];
    if (after?.type === 'field') {
      throw new WeblogError(
        'FORMAT_INVALID',
        `format "${source}": ${p.field.variable} is followed directly by ${after.field.variable}; put a separator between them`,
      );
    }
    const quoted = before?.type === 'literal' && before.text.endsWith('"') && (after === undefined || (after.type === 'literal' && after.text.startsWith('"')));
    tokens.push({ type: 'field', field: p.field, quoted });
  }
  const fields = tokens.filter((t) => t.type === 'field');
  if (fields.length === 0) throw new WeblogError('FORMAT_INVALID', `format "${source}" has no $variable or %directive`);
  const hasTime = fields.some((t) => t.field.kind.startsWith('time_'));
  if (!hasTime) throw new WeblogError('FORMAT_INVALID', `format "${source}" has no time field ($time_local, $time_iso8601, $msec or %t)`);
  // Trailing optional fields: the last `optionalFields` fields and the literals before them.
  let optionalFrom = tokens.length;
  if (optionalFields > 0) {
    let seen = 0;
    for (let i = tokens.length - 1; i >= 0; i--) {
      if (tokens[i]?.type === 'field' && ++seen === optionalFields) {
        optionalFrom = tokens[i - 1]?.type === 'literal' ? i - 1 : i;
        break;
      }
    }
  }
  return { name, source, tokens, optionalFrom, hasExtra: fields.some((t) => t.field.target === null && t.field.kind === 'string') };
}

const apacheCombined = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"';
export const namedFormats = {
  common: { syntax: 'apache', source: '%h %l %u %t "%r" %>s %b', optional: 0 },
  // Referer and User-Agent may be missing (a `common` line in a combined log).
  combined: { syntax: 'apache', source: apacheCombined, optional: 2 },
  vhost_combined: { syntax: 'apache', source: '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"', optional: 0 },
  // nginx's default `main` format; the trailing X-Forwarded-For is optional so
  // plain `combined` nginx logs parse too.
  nginx: {
    syntax: 'nginx',
    source: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"',
    optional: 1,
  },
} as const;

export type FormatName = keyof typeof namedFormats;
export const defaultFormat: FormatName = 'combined';

/** Compiles a named format, or an nginx / Apache format string. */
export function compileFormat(spec: string = defaultFormat): CompiledFormat {
  const named = Object.hasOwn(namedFormats, spec) ? (namedFormats as Record<string, (typeof namedFormats)[FormatName]>)[spec] : undefined;
  if (named) {
    const pieces = named.syntax === 'nginx' ? parseNginx(named.source) : parseApache(named.source);
    return build(spec, named.source, pieces, named.optional);
  }
  if (spec.includes('$')) return build('nginx-custom', spec, parseNginx(spec));
  if (spec.includes('%')) return build('apache-custom', spec, parseApache(spec));
  throw new WeblogError(
    'FORMAT_INVALID',
    `unknown format "${spec}": use one of ${Object.keys(namedFormats).join(', ')}, an nginx log_format string ($remote_addr ...) or an Apache LogFormat string (%h ...)`,
  );
}
