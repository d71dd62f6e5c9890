import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CrawlerVerifier, ipBits, prefixRange } from '../../../src/enrich/crawler-ranges.js';
import { refreshCrawlerRanges } from '../../../src/enrich/data/refresh-crawler-ranges.js';
import { createEnricher } from '../../../src/enrich/index.js';
import { createParser } from '../../../src/parse/scan.js';

const googlebot = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

describe('crawler ranges', () => {
  it('reads IPv4, IPv6 and mapped addresses, and prefixes of both', () => {
    expect(ipBits('66.249.66.1')).toBe(ipBits('::ffff:66.249.66.1'));
    expect(ipBits('2001:4860:4801:10::1')).toBe(0x2001_4860_4801_0010_0000_0000_0000_0001n);
    expect(ipBits('::1')).toBe(1n);
    for (const bad of ['300.1.1.1', 'example.org', '1:2:3', '1::2::3', '']) expect(ipBits(bad), bad).toBeUndefined();
    expect(prefixRange('66.249.64.0/27')).toEqual([ipBits('66.249.64.0'), ipBits('66.249.64.31')]);
    expect(prefixRange('2001:db8::/32')?.[1]).toBe(ipBits('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'));
    expect(prefixRange('1.2.3.4/33')).toBeUndefined();
  });

  it('verifies an address in the claimed operator ranges, nested and adjacent prefixes merged', () => {
    const v = new CrawlerVerifier({
      about: '',
      operators: {
        google: { sources: [], prefixes: ['66.249.64.0/19', '66.249.66.0/27', '66.249.96.0/27', '2001:4860:4801:10::/64'] },
        nosuch: { sources: [], prefixes: ['0.0.0.0/0'] },
      },
    });
    expect(v.operators()).toEqual(['google']);
    expect(v.claimOf(googlebot)).toBe('google');
    expect(v.claimOf('Mozilla/5.0 (compatible; bingbot/2.0)')).toBe(''); // no bing ranges here: not checked, never an impostor
    expect(v.verify('66.249.70.9', 'google')).toBe(true); // inside the /19 that holds the /27
    expect(v.verify('66.249.96.31', 'google')).toBe(true);
    expect(v.verify('66.249.96.32', 'google')).toBe(false);
    expect(v.verify('2001:4860:4801:10::abcd', 'google')).toBe(true);
    expect(v.verify('203.0.113.5', 'google')).toBe(false);
    expect(v.verify('66.249.70.9', 'bing')).toBe(false);
  });

  it('the bundled ranges verify a real Googlebot address and not a stranger', () => {
    const v = CrawlerVerifier.bundled();
    expect(v.operators()).toContain('google');
    expect(v.verify('66.249.66.1', 'google')).toBe(true);
    expect(v.verify('8.8.8.8', 'google')).toBe(false);
  });

  it('the enricher checks the full address, also in privacy mode where only an anonymised one is stored', async () => {
    const parse = createParser('combined');
    const line = (ip: string) => `${ip} - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 10 "-" "${googlebot}"`;
    for (const privacyKey of [undefined, Buffer.alloc(32, 7)]) {
      const e = await createEnricher(privacyKey ? { privacyKey } : {});
      const rec = (ip: string) => {
        const r = parse(line(ip));
        if (!r.ok) throw new Error('parse');
        return e.enrich(r.record);
      };
      expect(rec('66.249.66.1')).toMatchObject({ bot_claim: 'google', bot_verified: true });
      expect(rec('203.0.113.5')).toMatchObject({ bot_claim: 'google', bot_verified: false });
      expect(rec('203.0.113.6').ip).toBe(privacyKey ? '203.0.113.0' : '203.0.113.6');
    }
  });
});

describe('npm run data:bots', () => {
  const servers: http.Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it("writes each operator's prefixes from its files; an operator whose file fails keeps what it had", async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/a.json')
        return res.end(JSON.stringify({ creationTime: '2026-12-01T00:00:00', prefixes: [{ ipv4Prefix: '192.0.2.0/24' }, { ipv6Prefix: '2001:db8::/32' }] }));
      if (req.url === '/bad.json') return res.end(JSON.stringify({ prefixes: [{ ipv4Prefix: 'not-a-prefix' }] }));
      res.writeHead(404).end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'weblog-ranges-')), 'ranges.json');
    writeFileSync(out, JSON.stringify({ about: '', operators: { b: { sources: [], prefixes: ['198.51.100.0/24'] } } }));
    const log: string[] = [];
    const data = await refreshCrawlerRanges({
      out,
      log: (l) => log.push(l),
      operators: {
        a: { claims: /A/, urls: [`${base}/a.json`] },
        b: { claims: /B/, urls: [`${base}/bad.json`] },
        c: { claims: /C/, urls: [`${base}/missing.json`] },
      },
    });
    expect(data.operators.a).toEqual({
      sources: [{ url: `${base}/a.json`, creationTime: '2026-12-01T00:00:00' }],
      prefixes: ['192.0.2.0/24', '2001:db8::/32'],
    });
    expect(data.operators.b?.prefixes).toEqual(['198.51.100.0/24']);
    expect(data.operators.c).toBeUndefined();
    expect(log).toEqual([
      'a: 2 prefixes',
      'b: not refreshed (not a prefix: {"ipv4Prefix":"not-a-prefix"}); kept the 1 prefixes bundled before',
      'c: not refreshed (HTTP 404); none bundled',
    ]);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(data);
  });
});
