/**
 * The generated parser (compile.ts) must give exactly the generic scanner's
 * result on every line: real logs, seeded mutations of them (quotes, spaces,
 * dashes, backslashes, brackets and digits inserted, deleted or replaced), and
 * the edge-case corpus when ../shared is present. It must also really take the
 * fast path: the generic scanner may only be consulted for lines it rejects.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateParser } from '../../../src/parse/compile.js';
import { compileFormat } from '../../../src/parse/format.js';
import { createGenericParser, createParser } from '../../../src/parse/scan.js';
import { fixture, readLines, sharedFile } from '../../helpers/datasets.js';

const formats = [
  'combined',
  'common',
  'vhost_combined',
  'nginx',
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time "$upstream_response_time" $host $ssl_protocol',
  String.raw`%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\" %D %v %{X-Request-Id}i`,
  '$remote_addr [$time_iso8601] "$request" $status',
  '$msec $remote_addr "$request" $status',
  '$remote_addr [$time_local] "$request_method $request_uri $server_protocol" $status $request_time',
];

const real = [...readLines(fixture('logs', 'elastic_apache.log')), ...readLines(fixture('logs', 'basjes_hackers.log'))];

/** Seeded mutations: each line with one to three edits drawn from the characters parsers trip on. */
function mutations(lines: string[], count: number, seed: number): string[] {
  let s = seed;
  const rnd = (n: number) => (s = (s * 16807) % 2147483647) % n;
  const alphabet = ['"', ' ', '-', '\\', ']', '[', '7', 'x', '\r', '\t', '?', ':'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let line = lines[rnd(lines.length)] as string;
    for (let e = 1 + rnd(3); e > 0; e--) {
      const at = rnd(line.length + 1);
      const c = alphabet[rnd(alphabet.length)] as string;
      const op = rnd(3);
      line = op === 0 ? line.slice(0, at) + c + line.slice(at) : op === 1 ? line.slice(0, at) + line.slice(at + 1) : line.slice(0, at) + c + line.slice(at + 1);
    }
    out.push(line);
  }
  return out;
}

const edgeCases = sharedFile('parser_edge_cases', 'edge_cases.jsonl');

function edgeCaseLines(): string[] {
  const { file, present } = edgeCases;
  if (!present) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { line: string }).line);
}

describe('generated parser', () => {
  const crafted = [
    String.raw`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a\\" HTTP/1.1" 200 5 "-" "ua ends in a backslash\\"`,
    String.raw`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /\"q\" HTTP/1.1" 200 5 "ref \" x" "ua \\\" y"`,
    String.raw`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /\xD0\xBF HTTP/1.1" 200 - "-" "-"`,
    String.raw`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /b HTTP/1.1" 200 5 "-" "ua ends in a backslash\\"`,
    '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5',
    '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "a" extra fields "here"',
  ];
  const corpus = [...real, ...crafted, ...mutations([...real, ...crafted], 20_000, 42), ...edgeCaseLines(), '', ' ', '-', '\r', '"', 'GET / HTTP/1.1'];

  it.each(formats)(
    `gives the generic scanner’s result on every line (%s)${edgeCases.present ? '' : ', without the shared edge cases' + edgeCases.skipped}`,
    (format) => {
      const compiled = compileFormat(format);
      const generic = createGenericParser(compiled);
      let slowCalls = 0;
      const fast = generateParser(compiled, (line) => {
        slowCalls++;
        return generic(line);
      });
      let accepted = 0;
      let differing = 0;
      for (const line of corpus) {
        const before = slowCalls;
        const want = generic(line);
        const got = fast(line);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          differing++;
          expect(got, JSON.stringify(line)).toEqual(want);
        }
        if (want.ok) {
          accepted++;
          expect(slowCalls, `the fast path gave up on an accepted line: ${JSON.stringify(line)}`).toBe(before);
        }
      }
      expect(differing).toBe(0);
      if (format === 'combined' || format === 'common') expect(accepted).toBeGreaterThan(real.length);
    },
  );

  it('is what createParser returns', () => {
    const line = real[0] as string;
    expect(createParser('combined')(line)).toEqual(createGenericParser('combined')(line));
  });
});
