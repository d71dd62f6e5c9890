/**
 * The line scanner: walks a compiled format's tokens over one line with
 * indexOf, no regex, and fills an AccessRecord or returns a Reject that names
 * the field and what was wrong. It never throws on input.
 */
import { generateParser, type LineParser } from './compile.js';
import { decimal, isEscaped, parseUintAt } from './primitives.js';
import { compileFormat, defaultFormat, type CompiledFormat, type FieldSpec, type Token } from './format.js';
import { emptyRecord, setExtra, type AccessRecord, type ParseResult, type RejectReason } from './record.js';
import { splitRequest, splitUrl } from './request.js';
import { parseClfTimeAt, parseEpochSeconds, parseIsoTime, STORABLE_TIME, storableRangeText } from './time.js';
import { unescapeField } from './unescape.js';

export type { LineParser };

const reject = (line: string, reason: RejectReason, detail: string): ParseResult => ({ ok: false, reject: { line, reason, detail } });

function preview(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
}

/**
 * Stores the field's text line[pos, end) into the record; returns a Reject
 * result on bad values. Numbers and CLF times are read in place; only
 * string values and error details take a substring.
 */
function assign(line: string, field: FieldSpec, pos: number, end: number, quoted: boolean, r: AccessRecord): ParseResult | undefined {
  const dash = end - pos === 1 && line.charCodeAt(pos) === 45;
  switch (field.kind) {
    case 'string': {
      const value = dash ? '' : quoted ? unescapeField(line.slice(pos, end)) : line.slice(pos, end);
      const t = field.target;
      if (t === null) setExtra(r, field.extraName, value);
      else if (t === 'url') {
        r.url = value;
        splitUrl(value, r);
      } else r[t] = value;
      return undefined;
    }
    case 'skip':
      return undefined;
    case 'request':
      if (!dash) splitRequest(quoted ? unescapeField(line.slice(pos, end)) : line.slice(pos, end), r);
      return undefined;
    case 'time_clf':
    case 'time_iso':
    case 'time_msec': {
      if (dash || end === pos) return reject(line, 'missing_time', `${field.variable}: the line has no time ("${line.slice(pos, end)}")`);
      const t =
        field.kind === 'time_clf'
          ? parseClfTimeAt(line, pos, end)
          : field.kind === 'time_iso'
            ? parseIsoTime(line.slice(pos, end))
            : parseEpochSeconds(line.slice(pos, end));
      if (Number.isNaN(t)) return reject(line, 'bad_time', `${field.variable}: ${preview(line.slice(pos, end))} is not a valid time`);
      if (!(t >= STORABLE_TIME.min && t < STORABLE_TIME.max))
        return reject(line, 'bad_time', `${field.variable}: ${preview(line.slice(pos, end))} is outside the times weblog stores (${storableRangeText})`);
      r.time = t;
      return undefined;
    }
    case 'status': {
      if (dash) return undefined;
      const v = parseUintAt(line, pos, end);
      if (!(v <= 999) || end - pos > 3)
        return reject(line, 'bad_status', `${field.variable}: expected a 3-digit HTTP status, got ${preview(line.slice(pos, end))}`);
      r.status = v;
      return undefined;
    }
    case 'bytes': {
      if (dash) return undefined;
      const v = parseUintAt(line, pos, end);
      if (Number.isNaN(v)) return reject(line, 'bad_bytes', `${field.variable}: expected a byte count, got ${preview(line.slice(pos, end))}`);
      r.bytes = v;
      return undefined;
    }
    case 'seconds':
    case 'millis':
    case 'micros': {
      if (dash) return undefined;
      const raw = line.slice(pos, end);
      if (!decimal.test(raw)) return reject(line, 'bad_number', `${field.variable}: expected a number, got ${preview(raw)}`);
      const n = Number(raw);
      r.request_time = field.kind === 'seconds' ? n : field.kind === 'millis' ? n / 1e3 : n / 1e6;
      return undefined;
    }
  }
}

/** One token with everything the hot loop needs precomputed. */
interface Step {
  literal: string | null;
  /** First char code of the literal (-1 when none). */
  literalCode: number;
  field: FieldSpec | null;
  quoted: boolean;
  isTime: boolean;
  /** Text of the literal after this field ('' when none). */
  nextText: string;
  /** First char code of nextText (-1 when none). */
  nextCode: number;
  /** The literal after this field is the last token of the format. */
  nextIsEnd: boolean;
  /** This token is in the optional tail. */
  optional: boolean;
  /** The token after this one is in the optional tail. */
  nextOptional: boolean;
}

function compileSteps(compiled: CompiledFormat): Step[] {
  const { tokens, optionalFrom } = compiled;
  return tokens.map((tok: Token, i): Step => {
    const next = tokens[i + 1];
    return {
      literal: tok.type === 'literal' ? tok.text : null,
      literalCode: tok.type === 'literal' && tok.text !== '' ? tok.text.charCodeAt(0) : -1,
      field: tok.type === 'field' ? tok.field : null,
      quoted: tok.type === 'field' && tok.quoted,
      isTime: tok.type === 'field' && tok.field.kind.startsWith('time_'),
      nextText: next?.type === 'literal' ? next.text : '',
      nextCode: next?.type === 'literal' && next.text !== '' ? next.text.charCodeAt(0) : -1,
      nextIsEnd: i + 2 >= tokens.length,
      optional: i >= optionalFrom,
      nextOptional: i + 1 >= optionalFrom,
    };
  });
}

/**
 * The parser of a format: generated straight-line code (compile.ts) for the
 * lines it accepts, this scanner for everything else. Same results as
 * createGenericParser, faster.
 */
export function createParser(format: string | CompiledFormat = defaultFormat): LineParser {
  const compiled = typeof format === 'string' ? compileFormat(format) : format;
  return generateParser(compiled, createGenericParser(compiled));
}

/** The reference scanner: walks the tokens one by one and writes every reject's detail. */
export function createGenericParser(format: string | CompiledFormat = defaultFormat): LineParser {
  const compiled = typeof format === 'string' ? compileFormat(format) : format;
  const steps = compileSteps(compiled);
  const n = steps.length;

  return function parseLine(line: string): ParseResult {
    let len = line.length;
    if (len > 0 && line.charCodeAt(len - 1) === 13) line = line.slice(0, --len); // tolerate CRLF
    if (len === 0 || (line.charCodeAt(0) <= 32 && line.trim().length === 0)) return reject(line, 'empty_line', 'the line is empty');
    const r = emptyRecord();
    let pos = 0;
    let hasTime = false;
    for (let i = 0; i < n; i++) {
      const step = steps[i] as Step;
      const literal = step.literal;
      if (literal !== null) {
        if (step.optional && pos >= len) break;
        if (literal.length === 1 ? line.charCodeAt(pos) !== step.literalCode : !line.startsWith(literal, pos)) {
          if (step.optional) break; // optional tail absent or different: ignore it
          return reject(line, 'no_match', `expected ${JSON.stringify(literal)} at column ${pos + 1}, found ${preview(line.slice(pos))}`);
        }
        pos += literal.length;
        continue;
      }
      const field = step.field as FieldSpec;
      const nextText = step.nextText;
      let end: number;
      if (step.quoted) {
        // The closing quote is the first unescaped `"` followed by the next
        // literal and, at the end of the format, by end of line or a space.
        end = -1;
        for (let q = line.indexOf('"', pos); q !== -1; q = line.indexOf('"', q + 1)) {
          if (line.charCodeAt(q - 1) === 92 && isEscaped(line, q, pos)) continue;
          if (nextText !== '' && line.startsWith(nextText, q)) {
            const after = q + nextText.length;
            if (!step.nextIsEnd || after >= len || line.charCodeAt(after) === 32 || line.charCodeAt(after) === 9) {
              end = q;
              break;
            }
          }
          if (step.nextOptional && q === len - 1) {
            end = q;
            break;
          }
        }
        if (end === -1) return reject(line, 'unterminated_quote', `${field.variable}: the quoted value starting at column ${pos} has no closing quote`);
      } else if (nextText === '') {
        end = line.indexOf(' ', pos);
        if (end === -1) end = len;
      } else {
        // Search for the whole separator, not its first character, so that
        // `10.0.0.2, 10.0.0.1 - - [` still ends remote_addr at " - ".
        end = line.indexOf(nextText, pos);
        if (end === -1) {
          if (step.nextOptional) {
            end = line.indexOf(' ', pos);
            if (end === -1) end = len;
          } else if (nextText.charCodeAt(0) === 93) return reject(line, 'unterminated_bracket', `${field.variable}: no closing "]" after column ${pos}`);
          else
            return reject(
              line,
              'no_match',
              `${field.variable}: expected ${JSON.stringify(nextText)} after column ${pos + 1}, found ${preview(line.slice(pos))}`,
            );
        }
      }
      const bad = assign(line, field, pos, end, step.quoted, r);
      if (bad !== undefined) return bad;
      if (step.isTime) hasTime = true;
      pos = end;
    }
    if (!hasTime) return reject(line, 'missing_time', 'the line ended before its time field');
    return { ok: true, record: r };
  };
}
