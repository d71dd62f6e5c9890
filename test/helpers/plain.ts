/** Plain-JS counterparts of report arithmetic, for checking reports against the records themselves. */

/** Records grouped by a key, in first-seen order. */
export function groupBy<R, K>(recs: readonly R[], key: (r: R) => K): Map<K, R[]> {
  const m = new Map<K, R[]>();
  for (const r of recs) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** ClickHouse's round() on floats: ties to even (banker's rounding). */
export function chRound(x: number, d: number): number {
  const m = x * 10 ** d;
  const f = Math.floor(m);
  const r = Math.abs(m - f - 0.5) < 1e-9 ? (f % 2 === 0 ? f : f + 1) : Math.round(m);
  return r / 10 ** d;
}

/** Report rows with numeric strings (UInt64 come back as strings) turned into numbers, to compare with plain-JS numbers. */
export function numericRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v])));
}
