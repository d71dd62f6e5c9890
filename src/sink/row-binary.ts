/**
 * A batch of rows in ClickHouse's RowBinary format: each value as the server
 * keeps it, numbers fixed width little-endian, strings as a varint byte
 * length and their UTF-8 bytes, nothing escaped and no separators. The same
 * row bookkeeping as the TabSeparated RowBuffer (offsets, lines, table
 * partitions, zero-copy views of any run of rows).
 *
 * Per value (https://clickhouse.com/docs/interfaces/formats/RowBinary):
 * String and LowCardinality(String): varint length + bytes; UInt8/16/32/64
 * and Bool: 1/2/4/8 bytes; DateTime: UInt32 seconds; DateTime64(3): Int64
 * milliseconds; IPv6: 16 bytes in network order; Nullable(T): a byte (1 for
 * NULL) and T when it is 0; Map(String, String): varint count, then each
 * key and value.
 */
import { RowBuffer } from './row-buffer.js';

const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const TWO32 = 4294967296;

export class RowBinaryBuffer extends RowBuffer {
  /** RowBinary rows follow each other with nothing between them. */
  override endRow(): void {}

  /** Row `i`'s bytes in hex (for messages and tests). */
  override row(i: number): string {
    return this.bytes(i, i + 1).toString('hex');
  }

  /** A String: its UTF-8 byte length as a varint, then the bytes; a lone surrogate becomes U+FFFD (as TextEncoder does). */
  bstr(s: string): void {
    const n = s.length;
    if (n > 42) {
      this.longStr(s);
      return;
    }
    // At most 126 bytes: a one-byte length, filled in after the bytes are written.
    this.ensure(n * 3 + 1);
    const b = this.buf;
    const start = this.pos;
    let p = start + 1;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        // Not ASCII (rare outside the cached runs): the native encoder writes the rest, nothing needs escaping.
        p += b.write(i === 0 ? s : s.slice(i), p, 'utf8');
        break;
      }
      b[p++] = c;
    }
    b[start] = p - start - 1;
    this.pos = p;
  }

  /**
   * A long string through the native UTF-8 encoder. Below 16 KiB of bytes
   * the length takes two varint bytes whatever it is (0x85 0x00 is 5: every
   * ClickHouse reads a varint 7 bits at a time until a byte without its top
   * bit), so the bytes are written once, in place.
   */
  private longStr(s: string): void {
    const n = s.length;
    if (n * 3 < 16384) {
      this.ensure(n * 3 + 2);
      const b = this.buf;
      const p = this.pos;
      const len = b.write(s, p + 2, 'utf8');
      b[p] = 0x80 | (len & 0x7f);
      b[p + 1] = len >> 7;
      this.pos = p + 2 + len;
      return;
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** An unsigned LEB128 varint (a length or a count). */
  varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
    this.pos = p;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    this.pos = p + 2;
  }

  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    b[p + 2] = v >>> 16;
    b[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  /** A 64-bit integer from a safe integer; negative ones in two's complement (Int64). */
  u64(v: number): void {
    const hi = Math.floor(v / TWO32);
    this.u32(v - hi * TWO32);
    this.u32(hi);
  }

  /** A UInt64 held as its decimal digits (ua_id, visitor_id); anything else than 1 to 20 digits below 2^64 is written as 0. */
  u64Decimal(s: string): void {
    let hi = 0;
    let lo = 0;
    const n = s.length;
    let ok = n > 0 && n <= 20;
    for (let i = 0; ok && i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) ok = false;
      const t = lo * 10 + d;
      const carry = Math.floor(t / TWO32);
      lo = t - carry * TWO32;
      hi = hi * 10 + carry;
      if (hi >= TWO32) ok = false;
    }
    if (!ok) hi = lo = 0;
    this.u32(lo);
    this.u32(hi);
  }

  /** Nullable(Float32): NULL for null and for what is not finite (TabSeparated writes \N for those too). */
  nullableF32(v: number | null): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    if (v === null || !Number.isFinite(v)) {
      b[p] = 1;
      this.pos = p + 1;
      return;
    }
    b[p++] = 0;
    f32[0] = v;
    b[p++] = f32Bytes[0] as number;
    b[p++] = f32Bytes[1] as number;
    b[p++] = f32Bytes[2] as number;
    b[p++] = f32Bytes[3] as number;
    this.pos = p;
  }

  /** Map(String, String); null is the empty map. */
  stringMap(m: Record<string, string> | null): void {
    if (m === null) {
      this.u8(0);
      return;
    }
    const keys = Object.keys(m);
    this.varint(keys.length);
    for (const k of keys) {
      this.bstr(k);
      this.bstr(m[k] as string);
    }
  }

  /** An IPv6 column from a normalised address (ip.ts): '' is ::, a.b.c.d is ::ffff:a.b.c.d; what is neither is written as ::. */
  ipv6(s: string): void {
    this.ensure(16);
    const b = this.buf;
    const p = this.pos;
    b.fill(0, p, p + 16);
    this.pos = p + 16;
    if (s === '') return;
    if (s.indexOf(':') === -1) {
      if (v4Into(s, b, p + 12)) b[p + 10] = b[p + 11] = 0xff;
      else b.fill(0, p, p + 16);
      return;
    }
    if (!v6Into(s, b, p)) b.fill(0, p, p + 16);
  }
}

/** a.b.c.d into 4 bytes at `at`; false when s is not one. */
function v4Into(s: string, b: Uint8Array, at: number): boolean {
  let octet = 0;
  let digits = 0;
  let k = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || k === 4) return false;
      b[at + k++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      octet = octet * 10 + c - 48;
      if (++digits > 3 || octet > 255) return false;
    } else return false;
  }
  return k === 4;
}

/** An IPv6 address (hex groups, one `::`, an IPv4 tail) into 16 bytes at `at`, which are zero; false when s is not one. */
function v6Into(s: string, b: Uint8Array, at: number): boolean {
  const gap = s.indexOf('::');
  if (gap !== -1 && s.indexOf('::', gap + 1) !== -1) return false;
  const head = gap === -1 ? s : s.slice(0, gap);
  const tail = gap === -1 ? '' : s.slice(gap + 2);
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const words: number[] = [];
  const groups = (parts: string[], last: boolean): boolean => {
    for (let i = 0; i < parts.length; i++) {
      const g = parts[i] as string;
      if (last && i === parts.length - 1 && g.indexOf('.') !== -1) {
        const v4 = new Uint8Array(4);
        if (!v4Into(g, v4, 0)) return false;
        words.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else {
        if (g.length === 0 || g.length > 4 || !/^[0-9a-fA-F]+$/.test(g)) return false;
        words.push(parseInt(g, 16));
      }
    }
    return true;
  };
  if (!groups(h, gap === -1)) return false;
  const headWords = words.length;
  if (!groups(t, true)) return false;
  const tailWords = words.length - headWords;
  if (gap === -1 ? words.length !== 8 : words.length > 7) return false;
  for (let i = 0; i < headWords; i++) {
    b[at + 2 * i] = (words[i] as number) >> 8;
    b[at + 2 * i + 1] = (words[i] as number) & 0xff;
  }
  for (let i = 0; i < tailWords; i++) {
    const w = words[headWords + i] as number;
    const slot = 8 - tailWords + i;
    b[at + 2 * slot] = w >> 8;
    b[at + 2 * slot + 1] = w & 0xff;
  }
  return true;
}
