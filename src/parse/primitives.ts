/** Small readers of a line in place, shared by the scanner and the generated parser. */

/** The unsigned integer in s[at, end), or NaN; no substring. */
export function parseUintAt(s: string, at: number, end: number): number {
  if (end <= at || end - at > 15) return NaN;
  let v = 0;
  for (let i = at; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/** True when the quote at q is preceded by an odd run of backslashes starting at or after `from`. */
export function isEscaped(line: string, q: number, from: number): boolean {
  let n = 0;
  for (let i = q - 1; i >= from && line.charCodeAt(i) === 92; i--) n++;
  return (n & 1) === 1;
}

/** A plain decimal number (request times). */
export const decimal = /^\d+(?:\.\d+)?$/;
