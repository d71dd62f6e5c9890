/**
 * A line parser generated for one format: the token list of a CompiledFormat
 * unrolled into straight-line JavaScript, so V8 sees fixed property names,
 * constant separators and no per-token dispatch (about 1.5x the generic
 * scanner on the combined format; bench/parse.ts).
 *
 * It only builds accepted records. On anything unusual (an empty line, a
 * missing separator, a value that does not convert) it hands the line to the
 * generic scanner (scan.ts), which stays the one place that decides rejects
 * and writes their details. Both walk the tokens with the same rules; a unit
 * test runs both over real logs, the edge-case corpus and mutated lines and
 * requires identical results.
 *
 * The generated source contains only constants taken from the format with
 * JSON.stringify and record keys checked against a fixed list, never raw text
 * of the format string.
 */
import type { CompiledFormat, FieldSpec } from './format.js';
import { decimal, isEscaped, parseUintAt } from './primitives.js';
import { emptyRecord, setExtra, type ParseResult } from './record.js';
import { splitRequest, splitRequestAt, splitUrl } from './request.js';
import { parseClfTimeAt, parseEpochSeconds, parseIsoTime, STORABLE_TIME } from './time.js';
import { unescapeField } from './unescape.js';

export type LineParser = (line: string) => ParseResult;

const recordKeys = new Set<string>(Object.keys(emptyRecord()));

const helpers = {
  setExtra,
  emptyRecord,
  splitRequest,
  splitRequestAt,
  splitUrl,
  parseClfTimeAt,
  parseIsoTime,
  parseEpochSeconds,
  unescapeField,
  parseUintAt,
  isEscaped,
  decimal,
};

const q = (s: string) => JSON.stringify(s);

/** The statement that stores the field line[pos, end) (`dash` true for a lone `-`); `slow()` on a bad value. */
function storeField(field: FieldSpec, quoted: boolean): string {
  // `bs` is the first backslash at or after the field, or -1: most lines have
  // none, and then no quoted field needs an unescape scan of its own.
  const escaped = quoted ? '(bs !== -1 && (bs >= pos || (bs = line.indexOf("\\\\", pos)) !== -1) && bs < end)' : 'false';
  const text = quoted ? `(${escaped} ? h.unescapeField(line.slice(pos, end)) : line.slice(pos, end))` : 'line.slice(pos, end)';
  switch (field.kind) {
    case 'string': {
      const value = `(dash ? '' : ${text})`;
      const t = field.target;
      if (t === null) return field.extraName === '__proto__' ? `h.setExtra(r, '__proto__', ${value});` : `(r.extra ??= {})[${q(field.extraName)}] = ${value};`;
      if (!recordKeys.has(t)) throw new Error(`unknown record key ${t}`);
      if (t === 'url') return `r.url = ${value}; h.splitUrl(r.url, r);`;
      return `r.${t} = ${value};`;
    }
    case 'skip':
      return '';
    case 'request':
      // in place unless it has escapes to undo
      if (!quoted) return 'if (!dash) h.splitRequestAt(line, pos, end, r);';
      return `if (!dash) { if ${escaped} h.splitRequest(h.unescapeField(line.slice(pos, end)), r); else h.splitRequestAt(line, pos, end, r); }`;
    case 'time_clf':
    case 'time_iso':
    case 'time_msec': {
      const call =
        field.kind === 'time_clf'
          ? 'h.parseClfTimeAt(line, pos, end)'
          : field.kind === 'time_iso'
            ? 'h.parseIsoTime(line.slice(pos, end))'
            : 'h.parseEpochSeconds(line.slice(pos, end))';
      // NaN and times outside what is stored fail the test alike: the scanner names which.
      return `if (dash || end === pos) return slow(original); { const t = ${call}; if (!(t >= ${STORABLE_TIME.min} && t < ${STORABLE_TIME.max})) return slow(original); r.time = t; } hasTime = true;`;
    }
    case 'status':
      return 'if (!dash) { const v = h.parseUintAt(line, pos, end); if (!(v <= 999) || end - pos > 3) return slow(original); r.status = v; }';
    case 'bytes':
      return 'if (!dash) { const v = h.parseUintAt(line, pos, end); if (v !== v) return slow(original); r.bytes = v; }';
    case 'seconds':
    case 'millis':
    case 'micros': {
      const scale = field.kind === 'seconds' ? '' : field.kind === 'millis' ? ' / 1e3' : ' / 1e6';
      return `if (!dash) { const raw = line.slice(pos, end); if (!h.decimal.test(raw)) return slow(original); r.request_time = Number(raw)${scale}; }`;
    }
  }
}

/** The statements that set `end` for a field followed by `nextText`; `slow()` when it cannot be found. */
function findEnd(quoted: boolean, nextText: string, nextIsEnd: boolean, nextOptional: boolean): string {
  if (quoted) {
    const matchNext =
      nextText === ''
        ? ''
        : `if (line.startsWith(${q(nextText)}, k)${nextIsEnd ? ` && (k + ${nextText.length} >= len || line.charCodeAt(k + ${nextText.length}) === 32 || line.charCodeAt(k + ${nextText.length}) === 9)` : ''}) { end = k; break; }`;
    return `end = -1;
      for (let k = line.indexOf('"', pos); k !== -1; k = line.indexOf('"', k + 1)) {
        if (line.charCodeAt(k - 1) === 92 && h.isEscaped(line, k, pos)) continue;
        ${matchNext}
        ${nextOptional ? 'if (k === len - 1) { end = k; break; }' : ''}
      }
      if (end === -1) return slow(original);`;
  }
  if (nextText === '') return `end = line.indexOf(' ', pos); if (end === -1) end = len;`;
  const fallback = nextOptional ? `{ end = line.indexOf(' ', pos); if (end === -1) end = len; }` : 'return slow(original);';
  return `end = line.indexOf(${q(nextText)}, pos); if (end === -1) ${fallback}`;
}

/**
 * Generates the parser of `compiled`; `slow` is the generic scanner of the
 * same format, called with the original line whenever the fast path would
 * not accept it.
 */
export function generateParser(compiled: CompiledFormat, slow: LineParser): LineParser {
  const { tokens, optionalFrom } = compiled;
  const body: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    const next = tokens[i + 1];
    if (tok === undefined) continue;
    if (tok.type === 'literal') {
      if (i < optionalFrom && tokens[i - 1]?.type === 'field') {
        // The field before ended exactly where this literal was found.
        body.push(`pos += ${tok.text.length};`);
        continue;
      }
      const test = tok.text.length === 1 ? `line.charCodeAt(pos) !== ${tok.text.charCodeAt(0)}` : `!line.startsWith(${q(tok.text)}, pos)`;
      if (i >= optionalFrom) body.push(`if (pos >= len || ${test}) break scan;`);
      else body.push(`if (${test}) return slow(original);`);
      body.push(`pos += ${tok.text.length};`);
      continue;
    }
    const nextText = next?.type === 'literal' ? next.text : '';
    // No text of the format string reaches this source except through q() (JSON string literals):
    // a directive name in a comment could end the comment (newline, U+2028) and run as code.
    body.push(`// field ${i}`);
    body.push(findEnd(tok.quoted, nextText, i + 2 >= tokens.length, i + 1 >= optionalFrom));
    body.push(`dash = end - pos === 1 && line.charCodeAt(pos) === 45;`);
    body.push(storeField(tok.field, tok.quoted));
    body.push('pos = end;');
  }
  const source = `
    return function parseLine(line) {
      const original = line;
      let len = line.length;
      if (len > 0 && line.charCodeAt(len - 1) === 13) line = line.slice(0, --len);
      if (len === 0 || (line.charCodeAt(0) <= 32 && line.trim().length === 0)) return slow(original);
      const r = h.emptyRecord();
      let pos = 0, end = 0, dash = false, hasTime = false, bs = line.indexOf('\\\\');
      scan: {
        ${body.join('\n        ')}
      }
      if (!hasTime) return slow(original);
      return { ok: true, record: r };
    };`;
  return new Function('h', 'slow', source)(helpers, slow) as LineParser;
}
