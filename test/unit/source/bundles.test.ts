import { describe, expect, it } from 'vitest';
import { bundleLines, type BundleItem, type BundleOptions } from '../../../src/source/bundles.js';
import { pushMessageLines } from '../../../src/transport/message-lines.js';
import type { LogMessage } from '../../../src/transport/types.js';

async function collect(chunks: Buffer[], opts: BundleOptions = {}): Promise<BundleItem[]> {
  const out: BundleItem[] = [];
  async function* gen() {
    for (const c of chunks) yield c;
  }
  for await (const items of bundleLines(gen(), opts)) out.push(...items);
  return out;
}

const shape = (items: BundleItem[]) =>
  items.map((i) => (i.tooLong ? ['long', i.offset, i.size, i.preview.slice(0, 3)] : [i.bytes.toString(), i.offset, i.lines]));

/** The lines a consumer reads back from the bundles, with their source offsets. */
function unbundle(items: BundleItem[]): [string, number][] {
  const out: LogMessage[] = [];
  items.forEach((it, o) =>
    it.tooLong
      ? out.push({ value: `<long>`, offset: o, line: 0, source: '', sourceOffset: it.offset, timestamp: 0 })
      : pushMessageLines(it.bytes, { offset: o, source: '', sourceOffset: it.offset, timestamp: 0 }, out),
  );
  return out.map((m) => [m.value, m.sourceOffset]);
}

/** Every way of cutting `bytes` into three chunks gives the same items. */
async function allSplits(bytes: Buffer, opts: BundleOptions = {}) {
  const whole = await collect([bytes], opts);
  for (let a = 0; a <= bytes.length; a++)
    for (let b = a; b <= bytes.length; b++)
      expect(shape(await collect([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)], opts)), `cuts at ${a}, ${b}`).toEqual(shape(whole));
  return whole;
}

describe('bundleLines', () => {
  it('keeps the bytes of whole lines, bounded by lines, and gives every line back with its offset', async () => {
    const text = 'a\r\nbb\n\nccc\ndddd\ne';
    const items = await allSplits(Buffer.from(text), { maxLines: 2 });
    expect(shape(items)).toEqual([
      ['a\r\nbb\n', 0, 2],
      ['\nccc\n', 6, 2],
      ['dddd\ne', 11, 2],
    ]);
    expect(unbundle(items)).toEqual([
      ['a', 0],
      ['bb', 3],
      ['', 6],
      ['ccc', 7],
      ['dddd', 11],
      ['e', 16],
    ]);
  });

  it('bounds bundles by bytes; a line longer than the bound travels alone', async () => {
    const items = await allSplits(Buffer.from('aaaa\nbb\ncc\nddddddddd\nee\n'), { maxBytes: 8 });
    expect(shape(items)).toEqual([
      ['aaaa\nbb\n', 0, 2],
      ['cc\n', 8, 1],
      ['ddddddddd\n', 11, 1],
      ['ee\n', 21, 1],
    ]);
  });

  it('takes over-long lines out of the bundles with a preview, in order, wherever the chunks are cut', async () => {
    const long = 'x'.repeat(30);
    const items = await allSplits(Buffer.from(`ok\n${long}\nafter\n${long}`), { maxLineBytes: 10 });
    expect(shape(items)).toEqual([
      ['ok\n', 0, 1],
      ['long', 3, 31, 'xxx'],
      ['after\n', 34, 1],
      ['long', 40, 30, 'xxx'],
    ]);
  });

  it('holds back a last line without LF when asked (a file still being written), and resumes at an offset', async () => {
    expect(shape(await collect([Buffer.from('a\nb\npart')], { emitPartialLast: false, startOffset: 100 }))).toEqual([['a\nb\n', 100, 2]]);
  });

  it('keeps multi-byte characters whole across chunks and bundles', async () => {
    const items = await allSplits(Buffer.from('при\n😀x\n'), { maxLines: 1 });
    expect(unbundle(items)).toEqual([
      ['при', 0],
      ['😀x', 7],
    ]);
  });
});

describe('the lines of a message', () => {
  const lines = (text: string, sourceOffset = 10) => {
    const out: LogMessage[] = [];
    pushMessageLines(Buffer.from(text), { offset: 7, source: 's', sourceOffset, timestamp: 1 }, out);
    return out.map((m) => [m.value, m.line, m.sourceOffset]);
  };

  it('one line with or without its LF or CRLF, as other producers send it', () => {
    expect(lines('GET /')).toEqual([['GET /', 0, 10]]);
    expect(lines('GET /\n')).toEqual([['GET /', 0, 10]]);
    expect(lines('GET /\r\n')).toEqual([['GET /', 0, 10]]);
  });

  it('an empty message is one empty line (a reject, never dropped); so is an empty line inside a bundle', () => {
    expect(lines('')).toEqual([['', 0, 10]]);
    expect(lines('a\n\nb\n')).toEqual([
      ['a', 0, 10],
      ['', 1, 12],
      ['b', 2, 13],
    ]);
  });

  it('keeps the source offset unknown when the producer did not send one', () => {
    expect(lines('a\nb', -1)).toEqual([
      ['a', 0, -1],
      ['b', 1, -1],
    ]);
  });
});
