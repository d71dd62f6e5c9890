/**
 * Period comparison (--compare previous|year): the report runs again over the
 * period before (the range shifted back by its own length, in whole months
 * for monthly reports) or a year before, and each row gains, for each value
 * the report names (`-- compare: hits, visitors`), the previous value and the
 * change in %. Rows match by their label (`-- compare by: country`), or by
 * their time shifted by the same amount (`hour`, `day`, `month`).
 */
import { WeblogError } from '../errors.js';
import type { ReportDef, ReportResult } from './reports.js';
import { ALL_TIME } from './time.js';

export type CompareMode = 'previous' | 'year';
export const compareModes: readonly CompareMode[] = ['previous', 'year'];

export interface CompareSpec {
  /** The column rows match by. */
  by: string;
  /** Values that get a previous value and a change. */
  values: string[];
}

/** What a report compares, from its header; undefined when it does not. */
export function compareSpec(def: Pick<ReportDef, 'sql'>): CompareSpec | undefined {
  const values = /^-- compare: (.*)$/m.exec(def.sql)?.[1];
  const by = /^-- compare by: ([a-z0-9_]+)$/m.exec(def.sql)?.[1];
  if (values === undefined || by === undefined) return undefined;
  return { by, values: values.split(',').map((v) => v.trim()) };
}

type Grain = 'hour' | 'day' | 'month' | undefined;
const grainOf = (by: string): Grain => (by === 'hour' || by === 'day' || by === 'month' ? by : undefined);

const addMonths = (t: number, n: number) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
};
const monthIndex = (t: number) => new Date(t).getUTCFullYear() * 12 + new Date(t).getUTCMonth();

/** How far back the previous period is: a time's counterpart there (and back again with `back = false`). */
export interface Shift {
  mode: CompareMode;
  /** previous: ms back (hour/day grains and label reports), or months back (month grain). */
  ms: number;
  months: number;
}

export function shiftFor(mode: CompareMode, from: number, to: number, by: string): Shift {
  if (mode === 'year') return { mode, ms: 0, months: 12 };
  if (grainOf(by) === 'month') {
    // The months the range touches, so a month lines up with a month.
    const first = monthIndex(from);
    const last = monthIndex(to - 1);
    return { mode, ms: 0, months: last - first + 1 };
  }
  return { mode, ms: to - from, months: 0 };
}

export function shiftTime(t: number, s: Shift, back: boolean): number {
  if (s.months > 0) return addMonths(t, back ? -s.months : s.months);
  return back ? t - s.ms : t + s.ms;
}

/** A report time ('YYYY-MM-DD hh:mm:ss' or 'YYYY-MM-DD', UTC) moved by the shift, in the same shape. */
export function shiftText(text: string, s: Shift, back: boolean): string {
  const t = Date.parse(`${text.length === 10 ? text : text.replace(' ', 'T')}${text.length === 10 ? 'T00:00:00' : ''}Z`);
  if (Number.isNaN(t)) return text;
  const out = new Date(shiftTime(t, s, back)).toISOString().replace('T', ' ').slice(0, 19);
  return text.length === 10 ? out.slice(0, 10) : out;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** The current result with the previous period's values joined in (`prev` ran over shiftTime(from/to, back)). */
export function joinPrevious(cur: ReportResult, prev: ReportResult, spec: CompareSpec, s: Shift): ReportResult {
  const grain = grainOf(spec.by);
  const keyOf = (row: Record<string, unknown>, fromPrev: boolean) => {
    const v = row[spec.by];
    return grain && fromPrev && typeof v === 'string' ? shiftText(v, s, false) : String(v);
  };
  const before = new Map(prev.rows.map((r) => [keyOf(r, true), r]));
  const columns: string[] = [];
  const types = { ...cur.types };
  const abouts: ReportDef['columns'] = [];
  const about = new Map(cur.def.columns.map((c) => [c.name, c.about]));
  const period = s.mode === 'year' ? 'the same range a year before' : 'the period before (the range shifted back by its length)';
  for (const c of cur.columns) {
    columns.push(c);
    abouts.push({ name: c, about: about.get(c) ?? '' });
    if (!spec.values.includes(c)) continue;
    columns.push(`${c}_prev`, `${c}_change_pct`);
    types[`${c}_prev`] = `Nullable(${cur.types[c] ?? 'Float64'})`;
    types[`${c}_change_pct`] = 'Nullable(Float64)';
    abouts.push({ name: `${c}_prev`, about: `${c} in ${period}; null when it had none` });
    abouts.push({ name: `${c}_change_pct`, about: `change of ${c} against ${c}_prev, %; null when ${c}_prev is null or 0` });
  }
  const rows = cur.rows.map((row) => {
    const p = before.get(keyOf(row, false));
    const out: Record<string, unknown> = {};
    for (const c of cur.columns) {
      out[c] = row[c];
      if (!spec.values.includes(c)) continue;
      const was = p === undefined ? null : p[c];
      const now = Number(row[c]);
      const old = was === null || was === undefined ? null : Number(was);
      out[`${c}_prev`] = was ?? null;
      out[`${c}_change_pct`] = old === null || old === 0 || !Number.isFinite(now) ? null : round1((100 * (now - old)) / old);
    }
    return out;
  });
  return { ...cur, def: { ...cur.def, columns: abouts }, columns, types, rows };
}

/** Checks that a report can be compared over this range, naming what is wrong. */
export function checkCompare(
  name: string,
  def: Pick<ReportDef, 'sql'>,
  from: number,
  to: number,
  mode: string,
  comparable: () => readonly string[],
): CompareSpec {
  if (!compareModes.includes(mode as CompareMode)) throw new WeblogError('CONFIG_INVALID', `--compare: expected previous or year, got "${mode}"`);
  const spec = compareSpec(def);
  if (!spec) throw new WeblogError('CONFIG_INVALID', `the ${name} report has no --compare; reports that have: ${comparable().join(', ')}`);
  if (from === ALL_TIME.from || to === ALL_TIME.to) throw new WeblogError('CONFIG_INVALID', '--compare needs a range: give --from and --to');
  return spec;
}
