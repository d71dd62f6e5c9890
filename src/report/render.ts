/** Report output: an aligned terminal table with title and range, or JSON / CSV for machines. */
import { ALL_TIME, type ReportResult } from './reports.js';

export type ReportFormat = 'table' | 'json' | 'csv';

/** Control characters, C1, line/paragraph separators and bidi overrides: a log field must not drive the terminal. */
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const visible = (c: string) => {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v === '') return '-';
  if (typeof v === 'string') unsafe.lastIndex = 0;
  if (typeof v === 'string' && unsafe.test(v)) return v.replace(unsafe, visible);
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v);
  if (typeof v === 'string' && /^-?\d{4,}$/.test(v)) return Number(v).toLocaleString('en-US');
  return String(v);
}

const numeric = (v: unknown) => typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v));

export function rangeText(r: ReportResult): string {
  const from = r.params.from === ALL_TIME.from ? 'the beginning' : new Date(r.params.from).toISOString();
  const to = r.params.to === ALL_TIME.to ? 'now' : new Date(r.params.to).toISOString();
  const where = r.filters ? `, where ${r.filters.applied.join(' and ')}` : '';
  const vs = r.compare ? `, against ${new Date(r.compare.from).toISOString()} to ${new Date(r.compare.to).toISOString()}` : '';
  return `${from} to ${to}${r.params.site ? `, site ${r.params.site}` : ''}${where}${vs}`;
}

export function renderTable(r: ReportResult, maxWidth = 60): string {
  const notes = [r.filters?.note, r.retention?.note].filter((n) => n !== undefined);
  const title = `${r.def.title} (${rangeText(r)})${notes.map((n) => `\nnote: ${n}`).join('')}`;
  if (r.rows.length === 0) return `${title}\n(no data)\n`;
  const cols = r.columns;
  const cells = r.rows.map((row) =>
    cols.map((c) => {
      const s = cell(row[c]);
      return s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s;
    }),
  );
  const right = cols.map((c) => r.rows.every((row) => row[c] === null || numeric(row[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] as string).length)));
  const fmt = (vals: string[]) =>
    vals
      .map((v, i) => (right[i] ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [title, fmt(cols), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt), ''].join('\n');
}

/** A report as JSON: what `--output json`, the dashboard's API and the HTML dashboard hand out. */
export interface ReportJson {
  report: string;
  title: string;
  about: string;
  /** The range asked for, ISO-8601 UTC (1970-01-01 / 2106-01-01: not bounded). */
  from: string;
  to: string;
  site: string;
  limit: number;
  /** Raw-table reports when raw rows are kept a limited time: how long, and a note when the range reaches past it. */
  raw_retention_days?: number;
  note?: string;
  /** Visits reports: the longest pause within one visit. */
  visit_gap_minutes?: number;
  /** Filters applied (FIELD=VALUE texts), where the rows came from (raw, rollup, raw-for-rollup), and a note when a rollup lacked a field. */
  where?: string[];
  rows_from?: string;
  filter_note?: string;
  /** --compare: the mode and the previous period, ISO-8601 UTC; rows carry VALUE_prev and VALUE_change_pct. */
  compare?: { mode: string; from: string; to: string };
  /** Result columns in order, with their ClickHouse type and meaning. */
  columns: { name: string; type: string; about: string }[];
  rows: Record<string, unknown>[];
}

export function reportJson(r: ReportResult): ReportJson {
  const about = new Map(r.def.columns.map((c) => [c.name, c.about]));
  return {
    report: r.def.name,
    title: r.def.title,
    about: r.def.about,
    from: new Date(r.params.from).toISOString(),
    to: new Date(r.params.to).toISOString(),
    site: r.params.site,
    limit: r.params.limit,
    ...(r.def.sql.includes('{gap:') ? { visit_gap_minutes: r.params.visitGap / 60 } : {}),
    ...(r.filters ? { where: r.filters.applied, rows_from: r.filters.source, ...(r.filters.note ? { filter_note: r.filters.note } : {}) } : {}),
    ...(r.compare ? { compare: { mode: r.compare.mode, from: new Date(r.compare.from).toISOString(), to: new Date(r.compare.to).toISOString() } } : {}),
    ...(r.retention ? { raw_retention_days: r.retention.days, ...(r.retention.note ? { note: r.retention.note } : {}) } : {}),
    columns: r.columns.map((name) => ({ name, type: r.types[name] ?? '', about: about.get(name) ?? '' })),
    rows: r.rows,
  };
}

export function renderJson(r: ReportResult): string {
  return `${JSON.stringify(reportJson(r))}\n`;
}

/** C0 and C1 controls, DEL, and the bidi controls that reorder what a spreadsheet shows (Trojan Source). */

const csvControl = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * One CSV cell. Text from the logs is hostile: a cell starting with = + - @
 * (or a tab or CR) is a formula to a spreadsheet, so it gets a leading '
 * (OWASP's CSV-injection advice); control and bidi characters are written
 * as \uXXXX. Numbers are written as they are.
 */
export function csvField(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  let s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  s = s.replace(csvControl, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return /[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(r: ReportResult): string {
  return [r.columns.join(','), ...r.rows.map((row) => r.columns.map((c) => csvField(row[c])).join(',')), ''].join('\n');
}

export function render(r: ReportResult, format: ReportFormat): string {
  return format === 'json' ? renderJson(r) : format === 'csv' ? renderCsv(r) : renderTable(r);
}
