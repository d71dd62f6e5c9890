/**
 * Minimal benchmark helpers: warm up, repeat, report the best run and the
 * median. The best run is the headline: this machine shares its cores with
 * other tenants, and a neighbour's burst only ever makes a run slower, so the
 * fastest run is the steadiest estimate of the code's own cost; the median
 * column shows how much the runs spread.
 */

export interface Result {
  name: string;
  /** Items processed per second (best run). */
  perSecond: number;
  /** Microseconds per item (best run). */
  usPerItem: number;
  /** Microseconds per item (median run); equal to usPerItem for single-run results. */
  usMedian?: number;
}

export function measure(name: string, items: number, fn: () => void, opts: { runs?: number; warmup?: number } = {}): Result {
  const runs = opts.runs ?? 5;
  for (let i = 0; i < (opts.warmup ?? 2); i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  const best = times[0] as number;
  const median = times[Math.floor(runs / 2)] as number;
  return { name, perSecond: items / best, usPerItem: (best * 1e6) / items, usMedian: (median * 1e6) / items };
}

export function table(rows: Result[], baseline?: Result): string {
  const withMedian = rows.some((r) => r.usMedian !== undefined);
  const head = ['stage', 'lines/s', 'µs/line', ...(withMedian ? ['median µs/line'] : []), ...(baseline ? [`vs ${baseline.name}`] : [])];
  const body = rows.map((r) => [
    r.name,
    Math.round(r.perSecond).toLocaleString('en-US'),
    r.usPerItem.toFixed(3),
    ...(withMedian ? [(r.usMedian ?? r.usPerItem).toFixed(3)] : []),
    ...(baseline ? [`${(r.perSecond / baseline.perSecond).toFixed(2)}x`] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Median wall time in ms of `runs` awaited calls of `fn`, after one unmeasured warm-up call. */
export async function medianMs(fn: () => Promise<unknown>, runs = 5): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(runs / 2)] as number;
}
