/** Member-by-member gzip reading: concatenated members, trailing garbage, truncation, other formats named. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipObject, sniffFormat } from '../../../src/source/gzip.js';

async function* chunked(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts).toString();
}

const text = (n: number, tag = 'line') => Array.from({ length: n }, (_, i) => `${tag} ${i} ${'x'.repeat(i % 50)}\n`).join('');

describe('gunzipObject', () => {
  it('reads concatenated members whole, in any chunking', async () => {
    const a = text(5000, 'a');
    const b = text(3000, 'b');
    const gz = Buffer.concat([gzipSync(a), gzipSync(b)]);
    for (const size of [1, 7, 1000, 65536, gz.length]) {
      const s = gunzipObject(chunked(gz, size), 'x.gz');
      expect(await readAll(s)).toBe(a + b);
      expect(s.trailing).toBeUndefined();
    }
  });

  it('trailing garbage after the last member: every line comes out, the garbage is reported with its offset', async () => {
    // Node's own gunzip failed the stream here and lost the last chunk's output.
    const a = text(200_000);
    const member = gzipSync(a, { level: 1 });
    const gz = Buffer.concat([member, Buffer.from('GARBAGE GARBAGE\n')]);
    const s = gunzipObject(chunked(gz, 65536), 'x.gz');
    expect(await readAll(s)).toBe(a);
    expect(s.trailing).toEqual({ offset: member.length, length: 16, preview: Buffer.from('GARBAGE GARBAGE\n') });
  });

  it('zero padding after the last member is not garbage', async () => {
    const s = gunzipObject(chunked(Buffer.concat([gzipSync('a\n'), Buffer.alloc(512)]), 100), 'x.gz');
    expect(await readAll(s)).toBe('a\n');
    expect(s.trailing).toBeUndefined();
  });

  it('a truncated file yields what it holds, then fails naming the truncation', async () => {
    const a = text(100_000);
    const gz = gzipSync(a);
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    const parts: Buffer[] = [];
    const err = await (async () => {
      try {
        for await (const c of gunzipObject(chunked(cut, 65536), '/logs/x.gz')) parts.push(c);
      } catch (e) {
        return e as Error & { code?: string };
      }
    })();
    expect(err?.code).toBe('INPUT_UNREADABLE');
    expect(err?.message).toMatch(/^\/logs\/x\.gz: the gzip data ends early \(truncated file\?\) near compressed byte \d+$/);
    const got = Buffer.concat(parts).toString();
    expect(got.length).toBeGreaterThan(a.length / 3);
    expect(a.startsWith(got)).toBe(true);
  });

  it('a corrupt member fails its check', async () => {
    const gz = Buffer.from(gzipSync(text(100)));
    gz.writeUInt32LE((gz.readUInt32LE(gz.length - 8) ^ 1) >>> 0, gz.length - 8); // CRC-32 off by one bit
    await expect(readAll(gunzipObject(chunked(gz, 50), 'x.gz'))).rejects.toThrow(/fails its (CRC-32 or )?length check/);
  });

  it('corrupt deflate data fails naming it (it hung: the write callback never came after the zlib error)', async () => {
    const gz = Buffer.from(gzipSync(text(2000)));
    gz.fill(0x41, 200, 400);
    await expect(readAll(gunzipObject(chunked(gz, 1000), 'c.log.gz'))).rejects.toThrow(/^c\.log\.gz: corrupt gzip data \(.+\) near compressed byte \d+$/);
  });

  it('other formats named .gz are refused naming what they hold', async () => {
    const cases: [Buffer, string][] = [
      [Buffer.from('BZh91AY&SY\x00\x00', 'latin1'), 'bzip2 data'],
      [Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]), 'a zip archive'],
      [Buffer.from('127.0.0.1 - - [19/May/2015:22:05:59 +0000] "GET / HTTP/1.1" 200 1\n'), 'plain text'],
    ];
    for (const [bytes, what] of cases) {
      await expect(readAll(gunzipObject(chunked(bytes, 3), 'a.log.gz'))).rejects.toThrow(`a.log.gz: named .gz but holds ${what}, not gzip data`);
      expect(sniffFormat(bytes)).toBe(what);
    }
    await expect(readAll(gunzipObject(chunked(Buffer.alloc(0), 3), 'e.gz'))).rejects.toThrow('e.gz: empty file, not gzip data');
  });

  it('starts at a decompressed offset, across members', async () => {
    const a = text(1000, 'a');
    const b = text(1000, 'b');
    const gz = Buffer.concat([gzipSync(a), gzipSync(b)]);
    for (const from of [0, 1, a.length - 1, a.length, a.length + 17, a.length + b.length]) {
      expect(await readAll(gunzipObject(chunked(gz, 333), 'x.gz', from))).toBe((a + b).slice(from));
    }
  });

  it('a gzip bomb streams in bounded steps', async () => {
    // 256 MiB of zeros in about 250 KB: no single chunk may hold more than one slice's worth of output.
    const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 });
    let total = 0;
    let largest = 0;
    for await (const c of gunzipObject(chunked(bomb, 65536), 'bomb.gz')) {
      total += c.length;
      largest = Math.max(largest, c.length);
    }
    expect(total).toBe(256 * 1024 * 1024);
    expect(largest).toBeLessThanOrEqual(20 * 1024 * 1024);
  });
});
