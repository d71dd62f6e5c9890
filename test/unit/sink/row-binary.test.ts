import { describe, expect, it } from 'vitest';
import { RowBinaryBuffer } from '../../../src/sink/row-binary.js';
import { rng } from '../../helpers/random.js';

/** Reads a varint at `at`: [value, next position]. */
function varint(b: Buffer, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const byte = b[at++] as number;
    v += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [v, at];
    shift += 7;
  }
}

/** One value written alone. */
function written(write: (b: RowBinaryBuffer) => void): Buffer {
  const b = new RowBinaryBuffer(16); // small: it grows
  b.beginRow(0);
  write(b);
  b.endRow();
  return Buffer.from(b.bytes(0, 1));
}

describe('RowBinaryBuffer', () => {
  it('writes strings as their UTF-8 byte length and bytes, short, long and very long, as TextEncoder encodes them', () => {
    const r = rng(7);
    const pieces = ['a', 'é', '例', '😀', '\ud800', '\udc00x', '\t', '\0', '\\'];
    const strings = [
      '',
      'x',
      'a'.repeat(42),
      'a'.repeat(43),
      'a'.repeat(126),
      'a'.repeat(127),
      'a'.repeat(128),
      'é'.repeat(64),
      'a'.repeat(5461),
      'a'.repeat(5462),
      '例'.repeat(6000),
    ];
    for (let i = 0; i < 300; i++) {
      let s = '';
      const n = Math.floor(r() * 80);
      for (let k = 0; k < n; k++) s += pieces[Math.floor(r() * pieces.length)];
      strings.push(s);
    }
    const enc = new TextEncoder();
    for (const s of strings) {
      const got = written((b) => b.bstr(s));
      const [len, at] = varint(got, 0);
      const want = Buffer.from(enc.encode(s));
      expect(len, JSON.stringify(s.slice(0, 20))).toBe(want.length);
      expect(got.subarray(at).equals(want), JSON.stringify(s.slice(0, 20))).toBe(true);
    }
  });

  it('writes integers little-endian at their width, 64-bit ones from safe integers and from decimal digits', () => {
    expect(written((b) => b.u8(200)).toString('hex')).toBe('c8');
    expect(written((b) => b.u16(0xbeef)).toString('hex')).toBe('efbe');
    expect(written((b) => b.u32(0xdeadbeef)).toString('hex')).toBe('efbeadde');
    const r = rng(3);
    for (let i = 0; i < 500; i++) {
      const v = Math.floor(r() * Number.MAX_SAFE_INTEGER) * (i % 3 === 0 ? -1 : 1);
      const want = Buffer.alloc(8);
      want.writeBigInt64LE(BigInt(v));
      expect(written((b) => b.u64(v)).equals(want), String(v)).toBe(true);
      const big = (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
      const w2 = Buffer.alloc(8);
      w2.writeBigUInt64LE(big);
      expect(written((b) => b.u64Decimal(big.toString())).equals(w2), big.toString()).toBe(true);
    }
    const max = Buffer.alloc(8, 0xff);
    expect(written((b) => b.u64Decimal('18446744073709551615')).equals(max)).toBe(true);
    for (const bad of ['', '18446744073709551616', '123456789012345678901', '12a', '-1'])
      expect(written((b) => b.u64Decimal(bad)).equals(Buffer.alloc(8)), bad).toBe(true);
  });

  it('writes Nullable(Float32) as a null flag and the float, NULL for null and what is not finite', () => {
    for (const v of [0, 0.25, -3.5, 0.1, 1e-40, 3.4e38, 123.456]) {
      const want = Buffer.alloc(5);
      want.writeFloatLE(v, 1);
      expect(written((b) => b.nullableF32(v)).equals(want), String(v)).toBe(true);
    }
    for (const v of [null, NaN, Infinity, -Infinity]) expect(written((b) => b.nullableF32(v)).toString('hex'), String(v)).toBe('01');
  });

  it('writes Map(String, String) as a count and its pairs; null is the empty map', () => {
    expect(written((b) => b.stringMap(null)).toString('hex')).toBe('00');
    expect(written((b) => b.stringMap({ k: 'v', é: '' })).equals(Buffer.from([2, 1, 0x6b, 1, 0x76, 2, 0xc3, 0xa9, 0]))).toBe(true);
  });

  it('writes IPv6 columns from every form of address normalizeIp gives, as 16 bytes in network order', () => {
    const hex = (s: string) => written((b) => b.ipv6(s)).toString('hex');
    expect(hex('')).toBe('0'.repeat(32));
    expect(hex('1.2.3.4')).toBe('00000000000000000000ffff01020304');
    expect(hex('::')).toBe('0'.repeat(32));
    expect(hex('::1')).toBe(`${'0'.repeat(31)}1`);
    expect(hex('2001:db8::8a2e:370:7334')).toBe('20010db80000000000008a2e03707334');
    expect(hex('fe80::')).toBe(`fe80${'0'.repeat(28)}`);
    expect(hex('64:ff9b::192.0.2.33')).toBe('0064ff9b0000000000000000c0000221');
    expect(hex('1:2:3:4:5:6:7:8')).toBe('00010002000300040005000600070008');
    expect(hex('1:2:3:4:5:6:1.2.3.4')).toBe('00010002000300040005000601020304');
    // Round trips of random addresses in full, compressed (as URL hosts print them) and IPv4-tailed forms.
    const r = rng(11);
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.alloc(16);
      for (let k = 0; k < 16; k++) bytes[k] = r() < 0.4 ? 0 : Math.floor(r() * 256);
      const words = Array.from({ length: 8 }, (_, k) => bytes.readUInt16BE(2 * k).toString(16));
      const full = words.join(':');
      const compressed = new URL(`http://[${full}]/`).hostname.slice(1, -1);
      const tailed = `${words.slice(0, 6).join(':')}:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
      for (const form of [full, compressed, tailed]) expect(hex(form), form).toBe(bytes.toString('hex'));
    }
    // Not an address (normalizeIp never gives one): the unspecified address, not a misaligned row.
    for (const bad of ['x', '1.2.3', '1::2::3', '12345::', '1.2.3.256', '1:2:3:4:5:6:7:8:9']) expect(hex(bad), bad).toBe('0'.repeat(32));
  });

  it('keeps rows back to back: a run of rows is the concatenation of its rows', () => {
    const b = new RowBinaryBuffer(8);
    for (let i = 0; i < 100; i++) {
      b.beginRow(i, 0, 202401);
      b.bstr('x'.repeat(i));
      b.u32(i);
      b.endRow();
    }
    expect(b.count).toBe(100);
    const rows = Array.from({ length: 100 }, (_, i) => Buffer.from(b.bytes(i, i + 1)));
    expect(Buffer.concat(rows).equals(b.bytes(0, 100))).toBe(true);
    expect(rows[5]?.toString('hex')).toBe(`05${'78'.repeat(5)}05000000`);
  });
});
