import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import maxmind from 'maxmind';
import { describe, expect, it } from 'vitest';
import { GeoLookup, LazyGeoDb, bundledDbipPaths } from '../../../src/enrich/geoip.js';
import { WeblogError } from '../../../src/errors.js';
import { fixture } from '../../helpers/datasets.js';

type SourceRecord = Record<
  string,
  {
    country?: { iso_code?: string };
    city?: { names?: { en?: string } };
    subdivisions?: { names?: { en?: string } }[];
    location?: { latitude?: number; longitude?: number };
  }
>;

/** First address of a CIDR written in the GeoIP2 source JSON (IPv4 as ::a.b.c.d/n). */
function firstAddress(cidr: string): string {
  const ip = cidr.split('/')[0] as string;
  return ip.startsWith('::') && ip.includes('.') ? ip.slice(2) : ip;
}

describe('GeoLookup on the MaxMind test databases', () => {
  it('gives the values of the GeoIP2-City source JSON for every network in it', async () => {
    const geo = await GeoLookup.open({ geoip: fixture('maxmind', 'GeoIP2-City-Test.mmdb') });
    const source = JSON.parse(readFileSync(fixture('maxmind', 'GeoIP2-City-Test.json'), 'utf8')) as SourceRecord[];
    let checked = 0;
    for (const entry of source) {
      for (const [cidr, rec] of Object.entries(entry)) {
        const ip = firstAddress(cidr);
        const got = geo.lookup(ip, ip.includes(':') ? 6 : 4);
        expect(got.country, cidr).toBe(rec.country?.iso_code ?? '');
        expect(got.city, cidr).toBe(rec.city?.names?.en ?? '');
        expect(got.region, cidr).toBe(rec.subdivisions?.[0]?.names?.en ?? '');
        expect(got.latitude, cidr).toBe(rec.location?.latitude ?? null);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(geo.lookup('81.2.69.142', 4)).toMatchObject({ country: 'GB', city: 'London', region: 'England' });
    expect(geo.lookup('2001:218::1', 6)).toMatchObject({ country: 'JP' });
  });

  it('adds asn and as_org from an ASN database', async () => {
    const geo = await GeoLookup.open({ geoip: fixture('maxmind', 'GeoLite2-City-Test.mmdb'), asn: fixture('maxmind', 'GeoLite2-ASN-Test.mmdb') });
    expect(geo.lookup('1.128.0.1', 4)).toMatchObject({ asn: 1221, as_org: 'Telstra Pty Ltd' });
    expect(geo.lookup('89.160.20.112', 4)).toMatchObject({ country: 'SE', city: 'Linköping', asn: 29518, as_org: 'Bredband2 AB' });
    expect(geo.lookup('192.0.2.1', 4)).toMatchObject({ country: '', asn: 0 });
  });

  it('fails with GEOIP_UNAVAILABLE naming the file when a database cannot be opened', async () => {
    await expect(GeoLookup.open({ geoip: '/no/such.mmdb' })).rejects.toMatchObject({
      code: 'GEOIP_UNAVAILABLE',
      message: expect.stringContaining('/no/such.mmdb') as unknown,
    });
  });

  it('does not throw on a database with broken pointers', async () => {
    const geo = await GeoLookup.open({ geoip: fixture('maxmind', 'MaxMind-DB-test-broken-pointers-24.mmdb') });
    expect(() => geo.lookup('1.1.1.16', 4)).not.toThrow();
  });
});

describe.skipIf(!bundledDbipPaths())('the bundled DB-IP Lite database (flat schema)', () => {
  it('locates well-known addresses of both versions', async () => {
    const geo = await GeoLookup.open();
    const v4 = geo.lookup('83.149.9.216', 4);
    expect(v4.country).toBe('RU');
    expect(v4.city).not.toBe('');
    expect(typeof v4.latitude).toBe('number');
    expect(geo.lookup('2001:4860:4860::8888', 6).country).toMatch(/^[A-Z]{2}$/);
  });
});

describe('a GeoIP database read on its first lookup (the bundled IPv6 one)', () => {
  it('reads nothing until its first lookup, then gives what maxmind gives', async () => {
    const file = fixture('maxmind', 'GeoIP2-City-Test.mmdb');
    const lazy = new LazyGeoDb(file, 'test');
    expect(lazy.loaded).toBe(false);
    const eager = await maxmind.open(file);
    for (const ip of ['81.2.69.142', '2001:218::1', '2a02:d9c0::1', '216.160.83.56', '10.0.0.1']) expect(lazy.get(ip), ip).toEqual(eager.get(ip));
    expect(lazy.loaded).toBe(true);
  });

  it('the bundled IPv6 database is not read by an open nor by IPv4 lookups', async () => {
    const geo = await GeoLookup.open({});
    if (!bundledDbipPaths()) return; // without the package there is nothing to read (tested in enricher.test.ts)
    const v6 = (geo as unknown as { cityV6: LazyGeoDb }).cityV6;
    expect(v6).toBeInstanceOf(LazyGeoDb);
    geo.lookup('81.2.69.142', 4);
    expect(v6.loaded).toBe(false);
    const got = geo.lookup('2001:4860:4860::8888', 6);
    expect(v6.loaded).toBe(true);
    const eager = await maxmind.open((bundledDbipPaths() as { v6: string }).v6);
    expect(got.country).toBe((eager.get('2001:4860:4860::8888') as { country_code?: string } | null)?.country_code ?? '');
    expect(got.country).not.toBe('');
  });

  it('a file that is not a MaxMind database fails at open; one gone by the first lookup fails it, naming the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-geo-'));
    try {
      const text = path.join(dir, 'not.mmdb');
      writeFileSync(text, 'hello\n'.repeat(1000));
      expect(() => new LazyGeoDb(text, 'DB-IP IPv6')).toThrow(/GEOIP_UNAVAILABLE|cannot open DB-IP IPv6 database .*not\.mmdb: not a MaxMind DB file/);
      const copy = path.join(dir, 'copy.mmdb');
      copyFileSync(fixture('maxmind', 'GeoIP2-City-Test.mmdb'), copy);
      const lazy = new LazyGeoDb(copy, 'DB-IP IPv6');
      rmSync(copy);
      expect(() => lazy.get('2001:218::1')).toThrow(WeblogError);
      expect(() => lazy.get('2001:218::1')).toThrow(/cannot read DB-IP IPv6 database .*copy\.mmdb/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
