/**
 * RowBuffer's hand-written TabSeparated UTF-8 encoder against a reference
 * built from the platform's own pieces (regex escaping, Buffer.from).
 */
import { describe, expect, it } from 'vitest';
import { RowBuffer } from '../../../src/sink/row-buffer.js';

const escapes: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\', '\0': '\\0' };
const reference = (s: string) =>
  Buffer.from(
    s.replace(/[\t\n\r\\\0]/g, (c) => escapes[c] as string),
    'utf8',
  );

describe('RowBuffer', () => {
  it('encodes strings like regex escaping + Buffer.from, for seeded random strings of every character class', () => {
    let seed = 3;
    const rnd = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
    const pieces = [
      'a',
      'Z',
      ' ',
      '\t',
      '\n',
      '\r',
      '\\',
      '\0',
      '\u0001',
      '\u000b',
      '\u000c',
      '\u007f',
      'é',
      'п',
      '中',
      '😀',
      '\ud800',
      '\udc00',
      "'",
      '"',
      'N',
    ];
    const b = new RowBuffer(16); // grows many times
    const want: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const s = Array.from({ length: rnd(30) }, () => pieces[rnd(pieces.length)]).join('');
      b.beginRow(i);
      b.str(s);
      b.endRow();
      want.push(reference(s), Buffer.from('\n'));
    }
    expect(b.count).toBe(3000);
    expect(b.bytes(0, b.count).equals(Buffer.concat(want))).toBe(true);
  });

  it('writes integers in decimal, other numbers through String()', () => {
    const values = [0, 7, 9, 10, 99, 100, 65535, 1431850000123, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 1.5, -3];
    const b = new RowBuffer(8);
    for (const v of values) {
      b.beginRow(0);
      b.uint(v);
      b.endRow();
    }
    expect(b.bytes(0, b.count).toString()).toBe(values.map((v) => `${String(v)}\n`).join(''));
  });

  it('gives any run of rows as a view, and each row back as text', () => {
    const b = new RowBuffer(8);
    const rows = ['a\tb', 'пример', '', 'x'.repeat(1000)];
    rows.forEach((r, i) => {
      b.beginRow(10 + i);
      b.utf8(r);
      b.endRow();
    });
    expect(rows.map((_, i) => b.row(i))).toEqual(rows);
    expect(b.bytes(1, 3).toString()).toBe('пример\n\n');
    expect(b.bytes(4, 4).length).toBe(0);
    expect(b.offsets).toEqual([10, 11, 12, 13]);
  });
});

describe('RowBuffer.utcTime', () => {
  it('writes YYYY-MM-DD hh:mm:ss.sss in UTC like Date#toISOString, for seeded times from 1970 to 9999', () => {
    let seed = 11;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    const times = [
      0,
      1,
      999,
      86_399_999,
      86_400_000,
      971185536000,
      999_999_999_999,
      1_000_000_000_000,
      Date.UTC(2000, 1, 29),
      Date.UTC(2100, 2, 1),
      Date.UTC(2106, 0, 1) - 1,
      max,
    ];
    for (let i = 0; i < 20_000; i++) times.push(Math.floor(rnd() * max));
    const b = new RowBuffer(64);
    for (const t of times) {
      b.beginRow(0);
      b.utcTime(t);
      b.endRow();
    }
    const got = b.bytes(0, b.count).toString('latin1').split('\n').slice(0, -1);
    expect(got).toEqual(times.map((t) => new Date(t).toISOString().replace('T', ' ').replace('Z', '')));
  });
});
