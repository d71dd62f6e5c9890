import { describe, expect, it, vi } from 'vitest';
import { splitLines, type Line } from '../../../src/source/lines.js';

async function collect(chunks: (string | Buffer)[], opts = {}): Promise<Line[]> {
  const out: Line[] = [];
  async function* gen() {
    for (const c of chunks) yield typeof c === 'string' ? Buffer.from(c) : c;
  }
  for await (const batch of splitLines(gen(), opts)) out.push(...batch);
  return out;
}

/** Every way of cutting `bytes` into two chunks gives the same lines. */
async function allSplits(bytes: Buffer, opts = {}) {
  const whole = await collect([bytes], opts);
  for (let cut = 0; cut <= bytes.length; cut++) {
    expect(await collect([bytes.subarray(0, cut), bytes.subarray(cut)], opts), `cut at ${cut}`).toEqual(whole);
  }
  return whole;
}

describe('splitLines', () => {
  it('splits on LF with byte offsets, drops CR, keeps a last line without LF', async () => {
    const lines = await allSplits(Buffer.from('a\r\nbb\n\nccc'));
    expect(lines.map((l) => [l.text, l.offset, l.size])).toEqual([
      ['a', 0, 3],
      ['bb', 3, 3],
      ['', 6, 1],
      ['ccc', 7, 3],
    ]);
  });

  it('decodes a multi-byte UTF-8 character split across chunks', async () => {
    const bytes = Buffer.from('при\n😀x\n');
    const lines = await allSplits(bytes);
    expect(lines.map((l) => l.text)).toEqual(['при', '😀x']);
    expect(lines[1]?.offset).toBe(Buffer.byteLength('при\n'));
  });

  it('marks over-long lines instead of truncating them silently, and goes on', async () => {
    const long = 'x'.repeat(100);
    const lines = await allSplits(Buffer.from(`ok\n${long}\nafter\n`), { maxLineBytes: 50 });
    expect(lines.map((l) => [l.tooLong, l.offset, l.size])).toEqual([
      [false, 0, 3],
      [true, 3, 101],
      [false, 104, 6],
    ]);
    expect(lines[1]?.text.startsWith('xxxx')).toBe(true);
  });

  it('handles an over-long line spread over many chunks and at end of stream', async () => {
    const chunks = [...Array.from({ length: 10 }, () => 'y'.repeat(30)), '\nz\n', 'w'.repeat(80)];
    const lines = await collect(chunks, { maxLineBytes: 50 });
    expect(lines.map((l) => [l.tooLong, l.offset, l.size])).toEqual([
      [true, 0, 301],
      [false, 301, 2],
      [true, 303, 80],
    ]);
  });

  it('starts counting at startOffset when resuming', async () => {
    const lines = await collect(['a\nb\n'], { startOffset: 1000 });
    expect(lines.map((l) => l.offset)).toEqual([1000, 1002]);
  });
});

describe('splitLines on very long lines', () => {
  it('copies each byte of a long line a bounded number of times, however many chunks it spans', async () => {
    // Regression: the pending bytes were joined to every new chunk, so an 8 MB line took 1.4 s and 32 MB 15 s.
    const line = Buffer.alloc(4 * 1024 * 1024, 0x61);
    const chunks: Buffer[] = [];
    for (let i = 0; i < line.length; i += 64 * 1024) chunks.push(line.subarray(i, i + 64 * 1024));
    chunks.push(Buffer.from('\nnext\n'));
    let copied = 0;
    const real = Buffer.concat.bind(Buffer);
    const spy = vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], total?: number) => {
      const b = real(list, total);
      copied += b.length;
      return b;
    });
    try {
      const lines = await collect(chunks, { maxLineBytes: 8 * 1024 * 1024 });
      expect(lines.map((l) => [l.text.length, l.offset, l.size, l.tooLong])).toEqual([
        [line.length, 0, line.length + 1, false],
        [4, line.length + 1, 5, false],
      ]);
    } finally {
      spy.mockRestore();
    }
    expect(copied).toBeLessThanOrEqual(2 * line.length);
  });
});
