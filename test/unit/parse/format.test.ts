import { describe, expect, it } from 'vitest';
import { WeblogError } from '../../../src/errors.js';
import { compileFormat, namedFormats } from '../../../src/parse/format.js';
import { createParser } from '../../../src/parse/scan.js';

describe('compileFormat', () => {
  it('compiles every named format', () => {
    for (const name of Object.keys(namedFormats)) expect(compileFormat(name).tokens.length).toBeGreaterThan(5);
  });

  it('marks quoted fields and merges literals', () => {
    const f = compileFormat('combined');
    const request = f.tokens.find((t) => t.type === 'field' && t.field.kind === 'request');
    expect(request).toMatchObject({ quoted: true });
    expect(f.tokens.filter((t) => t.type === 'literal').map((t) => (t as { text: string }).text)).toContain('] "');
  });

  it('rejects format strings it cannot use, naming the problem', () => {
    expect(() => compileFormat('fancy')).toThrow(/unknown format "fancy"/);
    expect(() => compileFormat('$remote_addr $status')).toThrow(/no time field/);
    expect(() => compileFormat('$remote_addr$status [$time_local]')).toThrow(/followed directly by \$status/);
    try {
      compileFormat('nope');
    } catch (e) {
      expect(e).toBeInstanceOf(WeblogError);
      expect((e as WeblogError).code).toBe('FORMAT_INVALID');
      expect((e as WeblogError).retriable).toBe(false);
    }
  });
});

describe('custom formats', () => {
  it('parses an nginx log_format with request_time, upstream time, host and unknown variables', () => {
    const parse = createParser(
      '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time "$upstream_response_time" $host $ssl_protocol',
    );
    const r = parse('203.0.113.9 - alice [10/Oct/2000:13:55:36 -0700] "GET /a?b=1 HTTP/2.0" 200 512 "-" "curl/8.0" 0.125 "0.120, 0.004" example.org TLSv1.3');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.record).toMatchObject({
      remote_addr: '203.0.113.9',
      remote_user: 'alice',
      time: Date.UTC(2000, 9, 10, 20, 55, 36),
      method: 'GET',
      path: '/a',
      query: 'b=1',
      protocol: 'HTTP/2.0',
      status: 200,
      bytes: 512,
      referer: '',
      user_agent: 'curl/8.0',
      request_time: 0.125,
      upstream_response_time: '0.120, 0.004',
      vhost: 'example.org',
      extra: { ssl_protocol: 'TLSv1.3' },
    });
  });

  it('parses an Apache LogFormat as written in httpd.conf (escaped quotes, %D microseconds, %v)', () => {
    const parse = createParser(String.raw`%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\" %D %v %{X-Request-Id}i`);
    const r = parse('198.51.100.7 - - [17/May/2015:10:05:03 +0000] "POST /login HTTP/1.1" 302 - "https://x.test/" "Mozilla/5.0" 2500 www.x.test abc-123');
    expect(r.ok && r.record).toMatchObject({
      method: 'POST',
      status: 302,
      bytes: 0,
      request_time: 0.0025,
      vhost: 'www.x.test',
      extra: { http_x_request_id: 'abc-123' },
    });
  });

  it('parses $time_iso8601 and $msec times', () => {
    const iso = createParser('$remote_addr [$time_iso8601] "$request" $status');
    expect(iso('1.2.3.4 [2019-01-22T03:56:14+03:30] "GET / HTTP/1.1" 200')).toMatchObject({ ok: true, record: { time: Date.UTC(2019, 0, 22, 0, 26, 14) } });
    const msec = createParser('$msec $remote_addr "$request" $status');
    expect(msec('1157689324.156 1.2.3.4 "GET / HTTP/1.1" 200')).toMatchObject({ ok: true, record: { time: 1157689324156 } });
  });

  it('parses vhost_combined (host:port first)', () => {
    const r = createParser('vhost_combined')('www.example.com:443 192.0.2.1 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 10 "-" "ua"');
    expect(r.ok && r.record).toMatchObject({ vhost: 'www.example.com', remote_addr: '192.0.2.1', extra: { server_port: '443' } });
  });
});

describe('hostile format strings', () => {
  it('directive text never becomes code (a %{...}i with a newline escaped a // comment in the generated parser)', () => {
    const g = globalThis as { pwned?: unknown };
    delete g.pwned;
    const hostile = [
      '%h %{\nglobalThis.pwned = 1; //}i %t "%r" %>s %b',
      '%h %{*/ globalThis.pwned = 2; /*}i %t "%r" %>s %b',
      '%h %{\u2028globalThis.pwned = 3;\u2028}i %t "%r" %>s %b',
      '%h %{"); globalThis.pwned = 4; ("}i %t "%r" %>s %b',
      '%h %{`${globalThis.pwned = 5}`}i %t "%r" %>s %b',
    ];
    let parsed = 0;
    for (const fmt of hostile) {
      let parse;
      try {
        parse = createParser(fmt);
      } catch (err) {
        expect((err as WeblogError).code, fmt).toBe('FORMAT_INVALID'); // ($ makes it an nginx format without a time)
        continue;
      }
      const r = parse('1.2.3.4 x [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5');
      expect(r.ok, fmt).toBe(true);
      parsed++;
    }
    expect(parsed).toBe(4);
    expect(g.pwned).toBeUndefined();
  });

  it('names of Object.prototype are formats or variables like any other (own-property lookups)', () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(() => compileFormat(name)).toThrow(WeblogError);
      expect(() => compileFormat(name)).toThrow(/unknown format/);
    }
    const parse = createParser('$remote_addr $constructor $__proto__ $toString [$time_local] "$request" $status');
    const r = parse('1.2.3.4 a b c [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200');
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(Object.getPrototypeOf(r.record.extra)).toBe(Object.prototype);
      expect(JSON.stringify(r.record.extra)).toBe('{"constructor":"a","__proto__":"b","toString":"c"}');
    }
  });
});
