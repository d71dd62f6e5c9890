/** The header of RowBinaryWithNamesAndTypes: the column count as a varint, then each name, then each type, as RowBinary strings. */

const cache = new Map<string, Buffer>();

export function rowBinaryHeader(names: readonly string[], types: readonly string[]): Buffer {
  const key = `${names.join(',')}\u0000${types.join('\u0000')}`;
  let h = cache.get(key);
  if (h === undefined) {
    const parts: Buffer[] = [varint(names.length)];
    for (const s of [...names, ...types]) {
      const b = Buffer.from(s, 'utf8');
      parts.push(varint(b.length), b);
    }
    h = Buffer.concat(parts);
    if (cache.size < 64) cache.set(key, h);
  }
  return h;
}

function varint(v: number): Buffer {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
