/**
 * KSQL parity: every case of ksql/cases goes through weblog's parser, and each
 * column ksql/weblog.sql produces is compared with what the script outputs for
 * it. The expected outputs are not weblog's: `npm run ksql:expected` computes
 * them from the script's own patterns with java.util.regex and java.time
 * (ksql/expected/). Where weblog deliberately differs, the difference is
 * declared below, per case and column, and the test checks that it is real.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createParser } from '../../../src/parse/scan.js';
import { pushMessageLines } from '../../../src/transport/message-lines.js';
import type { LogMessage } from '../../../src/transport/types.js';
import { repoRoot } from '../../helpers/datasets.js';

const ksql = path.join(repoRoot, 'ksql');
const read = <T>(f: string) => JSON.parse(readFileSync(path.join(ksql, f), 'utf8')) as T;
type KsqlLine = { line: string; parsed?: Record<string, string | number | null>; reject?: { LINE: string; REASON: string }; dropped?: boolean };
const cases = read<{ cases: { name: string; value: string }[] }>('cases/cases.json').cases;
const expected = read<{ script_sha256: string; cases: { name: string; lines: KsqlLine[] }[] }>('cases/expected.json');
const input = read<{ inputs: { topic: string; value: string }[] }>('cases/input.json').inputs;

/**
 * Where weblog differs on purpose: case name -> line index -> column (or
 * `outcome`) -> why. Each entry must be a real difference.
 */
const differences: Record<string, Record<number, Record<string, string>>> = {
  'elastic line 8899 (cut-off user agent)': {
    0: {
      outcome:
        "weblog rejects a line whose last quoted field never closes (unterminated_quote); KSQL's pattern, not anchored at the end, stops before it and keeps the line without referer and user agent",
    },
  },
  'request is a dash': { 0: { REQUEST: 'weblog reads a request of `-` as empty, like every other `-` field; KSQL keeps the dash' } },
  'escaped quotes in the user agent': { 0: { USER_AGENT: 'weblog unescapes \\" inside quoted fields; KSQL keeps the backslashes' } },
  'TLS handshake bytes as the request': { 0: { REQUEST: 'weblog reads \\xHH escapes as bytes; KSQL keeps the text \\x16\\x03\\x01' } },
  'an impossible date (31 February)': {
    0: { outcome: "weblog rejects the line (bad_time); java.time's default SMART resolver makes 31 February the 28th, so KSQL stores a wrong day" },
  },
  'a status that is not a number': { 0: { outcome: 'both reject the line; weblog says why (bad_status), KSQL only no_match' } },
  'an unterminated quote': { 0: { outcome: 'both reject the line; weblog says why (unterminated_quote), KSQL only no_match' } },
  'an empty message (one empty line)': {
    0: { outcome: 'weblog counts the empty line as an empty_line reject; KSQL drops it (a bundle ends in an empty element)' },
  },
  'a bundle with CRLF and an empty line inside': {
    1: { outcome: 'weblog drops the CR and counts an empty_line reject; KSQL keeps "\\r" and rejects it as no_match' },
  },
};

const parse = createParser('combined');

function weblogLines(value: string): LogMessage[] {
  const out: LogMessage[] = [];
  pushMessageLines(Buffer.from(value), { offset: 0, source: '', sourceOffset: 0, timestamp: 0 }, out);
  return out;
}

describe('KSQL parity (ksql/weblog.sql)', () => {
  it('the expected outputs were made from this script and these cases (npm run ksql:expected)', () => {
    const sha = createHash('sha256')
      .update(readFileSync(path.join(ksql, 'weblog.sql')))
      .digest('hex');
    expect(sha, 'ksql/weblog.sql changed: run npm run ksql:expected and review the new outputs').toBe(expected.script_sha256);
    expect(expected.cases.map((c) => c.name)).toEqual(cases.map((c) => c.name));
    expect(input.map((i) => [i.topic, i.value])).toEqual(cases.map((c) => ['weblog.raw', c.value]));
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  for (const [k, c] of cases.entries()) {
    it(c.name, () => {
      const ks = (expected.cases[k] as { lines: KsqlLine[] }).lines;
      const wl = weblogLines(c.value);
      // KSQL splits on every LF, so a bundle ending in LF has one more (empty, dropped) element.
      const extra = ks.slice(wl.length);
      for (const e of extra) expect(e.dropped, `KSQL line ${ks.indexOf(e)} has no weblog line`).toBe(true);
      const declared = differences[c.name] ?? {};
      wl.forEach((msg, i) => {
        const want = ks[i] as KsqlLine;
        const res = parse(msg.value);
        const diff = declared[i] ?? {};
        const kOutcome = want.parsed ? 'parsed' : want.reject ? `reject ${want.reject.REASON}` : 'dropped';
        const wOutcome = res.ok ? 'parsed' : `reject ${res.reject.reason}`;
        if (diff.outcome) {
          expect(wOutcome, `declared as different: ${diff.outcome}`).not.toBe(kOutcome);
          return;
        }
        expect(wOutcome, `line ${i}: ${msg.value}`).toBe(kOutcome);
        if (!res.ok || !want.parsed) return;
        const rec = res.record as unknown as Record<string, string | number>;
        for (const [col, v] of Object.entries(want.parsed)) {
          const field = col.toLowerCase();
          expect(field in rec, `weblog has a field ${field}`).toBe(true);
          if (diff[col]) expect(rec[field], `declared as different: ${diff[col]}`).not.toEqual(v);
          else expect(rec[field], `line ${i} column ${col}`).toEqual(v);
        }
      });
    });
  }

  it('every declared difference names a case and a line that exist', () => {
    for (const [name, lines] of Object.entries(differences)) {
      const c = cases.find((x) => x.name === name);
      expect(c, name).toBeDefined();
      for (const i of Object.keys(lines)) expect(Number(i)).toBeLessThan(weblogLines((c as { value: string }).value).length);
    }
  });
});
