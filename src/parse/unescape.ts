/**
 * Unescaping of quoted log fields. Apache (ap_escape_logitem) and nginx
 * escape `"` and `\` with a backslash and write other bytes as `\xHH`; the
 * resulting bytes are read as UTF-8, invalid sequences becoming U+FFFD.
 */

const decoder = new TextDecoder('utf-8', { fatal: false });
const simple: Record<string, number> = { '"': 0x22, '\\': 0x5c, n: 0x0a, r: 0x0d, t: 0x09, b: 0x08, v: 0x0b };

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Returns `s` with escapes resolved; `s` itself when it holds no backslash. */
export function unescapeField(s: string): string {
  if (s.indexOf('\\') === -1) return s;
  if (s.indexOf('\\x') === -1) {
    // No byte escapes: a string-level replace keeps the non-ASCII text as is.
    return s.replace(/\\(["\\nrtbv])/g, (_, c: string) => String.fromCharCode(simple[c] as number));
  }
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as number;
    if (c === 0x5c && i + 1 < src.length) {
      const n = src[i + 1] as number;
      if (n === 0x78 && i + 3 < src.length) {
        const hi = hex(src[i + 2] as number);
        const lo = hex(src[i + 3] as number);
        if (hi >= 0 && lo >= 0) {
          out[o++] = hi * 16 + lo;
          i += 3;
          continue;
        }
      }
      const mapped = simple[String.fromCharCode(n)];
      if (mapped !== undefined) {
        out[o++] = mapped;
        i += 1;
        continue;
      }
    }
    out[o++] = c;
  }
  return decoder.decode(out.subarray(0, o));
}
