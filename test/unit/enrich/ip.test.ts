import { describe, expect, it } from 'vitest';
import { anonymizeIp, normalizeIp } from '../../../src/enrich/ip.js';

describe('normalizeIp', () => {
  it('recognises versions, private and loopback ranges', () => {
    expect(normalizeIp('83.149.9.216')).toEqual({ ip: '83.149.9.216', ip_version: 4, is_private: false, is_loopback: false });
    expect(normalizeIp('10.1.2.3')).toMatchObject({ ip_version: 4, is_private: true });
    expect(normalizeIp('172.31.0.1')).toMatchObject({ is_private: true });
    expect(normalizeIp('172.32.0.1')).toMatchObject({ is_private: false });
    expect(normalizeIp('127.0.0.1')).toMatchObject({ is_private: true, is_loopback: true });
    expect(normalizeIp('::1')).toMatchObject({ ip_version: 6, is_loopback: true });
    expect(normalizeIp('fd00::1')).toMatchObject({ ip_version: 6, is_private: true });
    expect(normalizeIp('2001:DB8::1')).toMatchObject({ ip: '2001:db8::1', ip_version: 6, is_private: false });
  });

  it('turns IPv4-mapped IPv6 into IPv4 and strips brackets', () => {
    expect(normalizeIp('::ffff:192.0.2.128')).toMatchObject({ ip: '192.0.2.128', ip_version: 4 });
    expect(normalizeIp('[2001:db8::2]')).toMatchObject({ ip: '2001:db8::2', ip_version: 6 });
  });

  it('drops the zone of a scoped IPv6 address (no IPv6 column takes fe80::1%eth0)', () => {
    expect(normalizeIp('fe80::1%eth0')).toEqual({ ip: 'fe80::1', ip_version: 6, is_private: true, is_loopback: false });
    expect(normalizeIp('[FE80::AB:1%25]')).toEqual({ ip: 'fe80::ab:1', ip_version: 6, is_private: true, is_loopback: false });
    expect(normalizeIp('2001:db8::1%1')).toMatchObject({ ip: '2001:db8::1', ip_version: 6 });
    expect(normalizeIp('10.0.0.1%eth0').ip_version).toBe(0); // not an address
  });

  it('takes the first public address of a list, and gives version 0 for non-addresses', () => {
    expect(normalizeIp('10.0.0.2, 10.0.0.1, 85.181.35.98').ip).toBe('85.181.35.98');
    expect(normalizeIp('10.0.0.2, 10.0.0.1').ip).toBe('10.0.0.2');
    for (const s of ['', '-', 'example.com', 'unix:', 'unix:/run/x.sock', '999.1.1.1']) expect(normalizeIp(s).ip_version, s).toBe(0);
  });
});

describe('anonymizeIp', () => {
  it('zeroes the last IPv4 octet and the last 80 IPv6 bits', () => {
    expect(anonymizeIp(normalizeIp('83.149.9.216'))).toBe('83.149.9.0');
    expect(anonymizeIp(normalizeIp('2001:db8:abcd:1234:5678:9abc:def0:1234'))).toBe('2001:db8:abcd::');
    expect(anonymizeIp(normalizeIp('2001:db8::1'))).toBe('2001:db8:0::');
    expect(anonymizeIp(normalizeIp('::ffff:1.2.3.4'))).toBe('1.2.3.0');
    expect(anonymizeIp(normalizeIp('nope'))).toBe('');
  });
});
