/** `weblog report NAME`: print a report. */
import { WeblogError } from '../../errors.js';
import { render, type ReportFormat } from '../../report/render.js';
import { checkReportable, listReports, loadReport, maxVisitGapMinutes, reportDefaults, runReport } from '../../report/reports.js';
import { writeStaticDashboard } from '../../dashboard/data.js';
import { parseReportTime } from '../../report/time.js';
import { defineCommand } from '../options.js';
import { filterFields, parseFilters } from '../../report/filters.js';
import { compareModes, type CompareMode } from '../../report/compare.js';
import { withClickHouse } from '../../app/clickhouse.js';
import { clickhouseConfig, clickhouseOptions } from '../option-groups.js';

function compareOption(v: string | undefined): CompareMode | undefined {
  if (v === undefined || v === '') return undefined;
  if (!compareModes.includes(v as CompareMode)) throw new WeblogError('CONFIG_INVALID', `--compare: expected previous or year, got "${v}"`);
  return v as CompareMode;
}

function parseTime(name: string, v: unknown): number | undefined {
  return v === undefined || v === '' ? undefined : parseReportTime(`--${name}`, String(v));
}

export const reportCommand = defineCommand({
  name: 'report',
  summary: 'Print a report (traffic, top pages, countries, ...) from ClickHouse.',
  usage: 'weblog report NAME... [--from ISO] [--to ISO] [--site S] [--output table|json|csv]   (weblog report --list; weblog report --html FILE)',
  options: [
    {
      name: 'from',
      type: 'string',
      arg: 'ISO',
      description: 'start of the range, inclusive, UTC unless a zone is given (rollup reports round down to their hour/day/month); default: the beginning',
    },
    {
      name: 'to',
      type: 'string',
      arg: 'ISO',
      description: 'end of the range, exclusive, UTC unless a zone is given (rollup reports round up to their hour/day/month); default: now',
    },
    { name: 'site', type: 'string', arg: 'S', default: '', description: 'only this site' },
    {
      name: 'where',
      type: 'string',
      arg: 'FIELD=VALUE',
      multiple: true,
      description: `only rows where FIELD=VALUE (or FIELD!=VALUE); one field's = filters match any, the rest all apply. path=/api/* is a prefix, status=5xx a class. Fields: ${Object.keys(filterFields).join(', ')}`,
    },
    {
      name: 'compare',
      type: 'string',
      arg: 'previous|year',
      description: "add the previous period's values and the change in % (traffic, top-pages, countries, referrers); needs --from and --to",
    },
    { name: 'limit', type: 'number', default: 20, min: 1, max: 1000000, unit: 'rows', description: 'rows of top-N reports' },
    {
      name: 'visit-gap',
      type: 'number',
      default: reportDefaults.visitGap / 60,
      min: 1,
      max: maxVisitGapMinutes,
      unit: 'minutes',
      description: 'visits reports: a pause this long or longer starts a new visit',
    },
    // Not --format: WEBLOG_FORMAT is the log format of the other commands (WEBLOG_FORMAT=nginx broke reports).
    { name: 'output', type: 'string', default: 'table', arg: 'table|json|csv', description: 'output format' },
    { name: 'list', type: 'boolean', default: false, description: 'list the reports' },
    { name: 'columns', type: 'boolean', default: false, description: 'with --list or NAME: say what each column means' },
    {
      name: 'html',
      type: 'string',
      arg: 'FILE',
      description: 'write every report as one self-contained HTML dashboard (charts, sortable tables; opens without network) instead',
    },
    ...clickhouseOptions,
  ],
  async run(opts, names) {
    const html = opts.html === undefined || opts.html === '' ? undefined : String(opts.html);
    if (opts.list || opts.columns || (names.length === 0 && html === undefined)) {
      const chosen = names.length > 0 ? names.map((n) => loadReport(n)) : listReports();
      for (const r of chosen) {
        process.stdout.write(`${r.name.padEnd(18)}${r.title}: ${r.about}\n`);
        if (opts.columns) for (const c of r.columns) process.stdout.write(`${''.padEnd(20)}${c.name}: ${c.about}\n`);
      }
      return names.length === 0 && !opts.list && !opts.columns ? 2 : 0;
    }
    if (html !== undefined && names.length > 0)
      throw new WeblogError('CONFIG_INVALID', `--html writes every report; give no report name (got ${names.join(', ')}), or leave out --html`);
    const format = String(opts.output) as ReportFormat;
    if (!['table', 'json', 'csv'].includes(format)) throw new WeblogError('CONFIG_INVALID', `--output: expected table, json or csv, got "${format}"`);
    const params = {
      from: parseTime('from', opts.from),
      to: parseTime('to', opts.to),
      site: String(opts.site ?? ''),
      limit: Number(opts.limit),
      visitGap: Number(opts['visit-gap']) * 60,
      where: parseFilters(opts.where),
      compare: compareOption(opts.compare),
    };
    if (params.from !== undefined && params.to !== undefined && params.from >= params.to)
      throw new WeblogError('CONFIG_INVALID', `--from (${String(opts.from)}) must be before --to (${String(opts.to)})`);
    return withClickHouse(clickhouseConfig(opts), { readOnly: true }, async (ch) => {
      await checkReportable(ch);
      if (html !== undefined) {
        const file = await writeStaticDashboard(ch, html, params);
        process.stderr.write(`weblog report: dashboard written to ${file}\n`);
        return 0;
      }
      for (const name of names) {
        const result = await runReport(ch, name, params);
        process.stdout.write(render(result, format) + (format === 'table' && names.length > 1 ? '\n' : ''));
      }
      return 0;
    });
  },
});
