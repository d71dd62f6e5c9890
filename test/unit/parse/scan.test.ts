import { describe, expect, it } from 'vitest';
import { createParser } from '../../../src/parse/scan.js';
import type { AccessRecord, RejectReason } from '../../../src/parse/record.js';
import { fixture, readLines } from '../../helpers/datasets.js';

const combined = createParser('combined');
const line =
  '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"';

function ok(parse: typeof combined, l: string): AccessRecord {
  const r = parse(l);
  if (!r.ok) throw new Error(`rejected: ${r.reject.reason} ${r.reject.detail}`);
  return r.record;
}

function reason(parse: typeof combined, l: string): RejectReason {
  const r = parse(l);
  if (r.ok) throw new Error(`accepted: ${l}`);
  return r.reject.reason;
}

describe('combined lines', () => {
  it('fills every field of the contract', () => {
    expect(ok(combined, line)).toEqual({
      remote_addr: '127.0.0.1',
      remote_user: 'frank',
      time: Date.UTC(2000, 9, 10, 20, 55, 36),
      request: 'GET /apache_pb.gif?x=1 HTTP/1.0',
      method: 'GET',
      url: '/apache_pb.gif?x=1',
      path: '/apache_pb.gif',
      query: 'x=1',
      protocol: 'HTTP/1.0',
      status: 200,
      bytes: 2326,
      referer: 'http://www.example.com/start.html',
      user_agent: 'Mozilla/4.08 [en] (Win98; I ;Nav)',
      vhost: '',
      request_time: null,
      upstream_response_time: '',
      x_forwarded_for: '',
      extra: null,
    });
  });

  it('maps "-" to "" and 0', () => {
    expect(ok(combined, '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "-" 400 - "-" "-"')).toMatchObject({
      remote_user: '',
      request: '',
      method: '',
      bytes: 0,
      referer: '',
      user_agent: '',
      status: 400,
    });
  });

  it('unescapes quoted fields: \\" and nginx \\x22, \\xD0\\xBF -> п', () => {
    const r = ok(combined, String.raw`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /\xD0\xBF HTTP/1.1" 200 1 "ref \"x\"" "UA \x22quoted\x22"`);
    expect(r.url).toBe('/п');
    expect(r.referer).toBe('ref "x"');
    expect(r.user_agent).toBe('UA "quoted"');
  });

  it('tolerates content after the last field, CRLF, and missing referer/UA', () => {
    expect(ok(combined, `${line} 0.005 "extra"`).user_agent).toBe('Mozilla/4.08 [en] (Win98; I ;Nav)');
    expect(ok(combined, `${line}\r`).user_agent).toBe('Mozilla/4.08 [en] (Win98; I ;Nav)');
    expect(ok(combined, '::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209')).toMatchObject({ status: 404, bytes: 209, user_agent: '' });
  });

  it('keeps a UA with escaped quotes and appended quoted fields apart', () => {
    const l = String.raw`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "Foo \"Bar\" Baz" "extra" 0.5`;
    expect(ok(combined, l).user_agent).toBe('Foo "Bar" Baz');
  });

  it('rejects what it cannot read, with a reason and a detail naming the field', () => {
    const cases: [string, RejectReason][] = [
      ['', 'empty_line'],
      ['   ', 'empty_line'],
      ['hello world', 'no_match'],
      ['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1', 'unterminated_quote'],
      ['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.1" 200 1', 'unterminated_bracket'],
      ['1.2.3.4 - - [31/Feb/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua"', 'bad_time'],
      ['1.2.3.4 - - [1234] "GET / HTTP/1.1" 200 1 "-" "ua"', 'bad_time'],
      ['1.2.3.4 - - [-] "GET / HTTP/1.1" 200 1 "-" "ua"', 'missing_time'],
      ['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" abc 1 "-" "ua"', 'bad_status'],
      ['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 2000 1 "-" "ua"', 'bad_status'],
      ['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1k "-" "ua"', 'bad_bytes'],
    ];
    for (const [l, why] of cases) expect(reason(combined, l), l).toBe(why);
    const r = combined('1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" abc 1 "-" "ua"');
    expect(!r.ok && r.reject.detail).toMatch(/%>s: expected a 3-digit HTTP status, got "abc"/);
  });
});

describe('nginx lines', () => {
  const nginx = createParser('nginx');
  it('reads the optional X-Forwarded-For and lines without it', () => {
    expect(ok(nginx, '10.0.0.1 - - [22/Jan/2019:03:56:14 +0330] "GET / HTTP/1.1" 200 5 "-" "ua" "203.0.113.5, 10.0.0.2"').x_forwarded_for).toBe(
      '203.0.113.5, 10.0.0.2',
    );
    expect(ok(nginx, '10.0.0.1 - - [22/Jan/2019:03:56:14 +0330] "GET / HTTP/1.1" 200 5 "-" "ua"')).toMatchObject({ user_agent: 'ua', x_forwarded_for: '' });
  });
  it('accepts a list of addresses as remote_addr', () => {
    expect(ok(nginx, '10.0.0.2, 10.0.0.1, 85.181.35.98 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "ua"').remote_addr).toBe(
      '10.0.0.2, 10.0.0.1, 85.181.35.98',
    );
  });
});

describe('real logs', () => {
  it('Elastic Apache sample: 9,999 lines parse; line 8,899 (cut-off UA) is the one reject', () => {
    const lines = readLines(fixture('logs', 'elastic_apache.log'));
    expect(lines).toHaveLength(10_000);
    const rejects: { n: number; reason: string }[] = [];
    const methods: Record<string, number> = {};
    const statuses: Record<number, number> = {};
    lines.forEach((l, i) => {
      const r = combined(l);
      if (!r.ok) rejects.push({ n: i + 1, reason: r.reject.reason });
      else {
        methods[r.record.method] = (methods[r.record.method] ?? 0) + 1;
        statuses[r.record.status] = (statuses[r.record.status] ?? 0) + 1;
      }
    });
    expect(rejects).toEqual([{ n: 8899, reason: 'unterminated_quote' }]);
    // Counts from the dataset's SOURCE.md (line 8,899 is a GET 200).
    expect(methods).toEqual({ GET: 9951, HEAD: 42, POST: 5, OPTIONS: 1 });
    expect(statuses[200]).toBe(9125);
    expect(statuses[404]).toBe(213);
  });

  it('Elastic sample: \\xNN referers are decoded, never crash', () => {
    const lines = readLines(fixture('logs', 'elastic_apache.log'));
    const r = ok(combined, lines[5850] as string);
    expect(r.referer).toContain('\uFFFD');
    expect(r.referer).not.toContain('\\x');
  });

  it('basjes sample: all 3,456 lines parse, 12 with IPv6 clients', () => {
    const lines = readLines(fixture('logs', 'basjes_hackers.log'));
    const recs = lines.map((l) => ok(combined, l));
    expect(recs).toHaveLength(3456);
    expect(recs.filter((r) => r.remote_addr.includes(':'))).toHaveLength(12);
    expect(recs[0]?.time).toBe(Date.parse('2015-10-25T04:11:25+01:00'));
    expect(recs.at(-1)?.time).toBe(Date.parse('2015-10-30T15:59:39+01:00'));
  });
});
