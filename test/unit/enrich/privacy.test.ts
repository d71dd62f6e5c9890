import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEnricher } from '../../../src/enrich/index.js';
import { loadPrivacyKey, maskIps, PrivateVisitorIds } from '../../../src/enrich/privacy.js';
import { createParser } from '../../../src/parse/scan.js';

const parse = createParser('combined');
const record = (line: string) => {
  const r = parse(line);
  if (!r.ok) throw new Error(r.reject.detail);
  return r.record;
};
const line = (ip: string, day = '10') =>
  `${ip} - alice [${day}/Oct/2000:13:55:36 -0700] "GET /a?who=alice HTTP/1.1" 200 1 "http://198.51.100.23/from?x=1" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"`;
const key = (n: number) => Buffer.alloc(32, n);

describe('privacy mode', () => {
  it('masks IPv4 and IPv6 addresses in text as the ip column is, and leaves times and other numbers', () => {
    expect(maskIps('81.2.69.142 - - [10/Oct/2000:13:55:36 -0700] "GET /v1.2.3.4.5 HTTP/1.1" from 2001:db8:85a3::8a2e:370:7334 and ::ffff:10.1.2.3')).toBe(
      '81.2.69.0 - - [10/Oct/2000:13:55:36 -0700] "GET /v1.2.3.4.5 HTTP/1.1" from 2001:db8:85a3:: and ::ffff:10.1.2.0',
    );
    expect(maskIps('no address, 12:30:45, 1.2.3')).toBe('no address, 12:30:45, 1.2.3');
  });

  it('visitor ids: the same for the same key, day, UA and address; different across keys and days', () => {
    const a = new PrivateVisitorIds(key(1));
    const b = new PrivateVisitorIds(key(2));
    expect(a.id('123', 16000, '81.2.69.0')).toBe(new PrivateVisitorIds(key(1)).id('123', 16000, '81.2.69.0'));
    expect(a.id('123', 16000, '81.2.69.0')).toMatch(/^\d{1,20}$/);
    expect(a.id('123', 16000, '81.2.69.0')).not.toBe(b.id('123', 16000, '81.2.69.0'));
    expect(a.id('123', 16000, '81.2.69.0')).not.toBe(a.id('123', 16001, '81.2.69.0'));
    expect(a.id('123', 16000, '81.2.69.0')).not.toBe(a.id('124', 16000, '81.2.69.0'));
  });

  it('the key file: created once with 64 hex digits, readable by its owner only; a file without a key is refused', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-key-'));
    const file = path.join(dir, 'sub', 'privacy.key');
    const k = loadPrivacyKey(file);
    expect(k).toHaveLength(32);
    expect(readFileSync(file, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadPrivacyKey(file).equals(k)).toBe(true);
    const bad = path.join(dir, 'bad.key');
    writeFileSync(bad, 'password123\n');
    expect(() => loadPrivacyKey(bad)).toThrow(`--privacy-key: ${bad} does not hold a key (64 hex digits)`);
  });

  it('the enricher keeps no full address, user, query or forwarded-for, and its ids follow the key', async () => {
    const e = await createEnricher({ privacyKey: key(1) });
    const r = e.enrich(record(line('81.2.69.142')));
    expect(r).toMatchObject({
      remote_addr: '81.2.69.0',
      ip: '81.2.69.0',
      remote_user: '',
      url: '/a',
      query: '',
      request: 'GET /a HTTP/1.1',
      referer: 'http://198.51.100.0/from',
    });
    expect(JSON.stringify(r)).not.toMatch(/81\.2\.69\.142|alice|198\.51\.100\.23/);
    const plain = (await createEnricher()).enrich(record(line('81.2.69.142')));
    expect(r.visitor_id).not.toBe(plain.visitor_id);
    expect((await createEnricher({ privacyKey: key(1) })).enrich(record(line('81.2.69.143'))).visitor_id).toBe(r.visitor_id); // same /24, same UA, same day
    expect((await createEnricher({ privacyKey: key(2) })).enrich(record(line('81.2.69.142'))).visitor_id).not.toBe(r.visitor_id);
  });
});
