/** `weblog report NAME`: print a report. */
import { WeblogError } from '../../errors.js';
import { render, type ReportFormat } from '../../report/render.js';
import { checkReportable, listReports, runReport } from '../../report/reports.js';
import { parseReportTime } from '../../report/time.js';
import { defineCommand } from '../options.js';
import { openClickHouse } from '../../sink/clickhouse/open.js';
import { clickhouseConfig, clickhouseOptions } from '../option-groups.js';

function parseTime(name: string, v: unknown): number | undefined {
  return v === undefined || v === '' ? undefined : parseReportTime(name, String(v));
}

export const reportCommand = defineCommand({
  name: 'report',
  summary: 'Print a report (traffic, top pages, countries, ...) from ClickHouse.',
  usage: 'weblog report NAME [--from ISO] [--to ISO] [--site S] [--output table|json|csv]   (weblog report --list)',
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
    { name: 'limit', type: 'number', default: 20, min: 1, max: 1000000, unit: 'rows', description: 'rows of top-N reports' },
    // Not --format: WEBLOG_FORMAT is the log format of the other commands (WEBLOG_FORMAT=nginx broke reports).
    { name: 'output', type: 'string', default: 'table', arg: 'table|json|csv', description: 'output format' },
    { name: 'list', type: 'boolean', default: false, description: 'list the reports' },
    ...clickhouseOptions,
  ],
  async run(opts, names) {
    if (opts.list || names.length === 0) {
      for (const r of listReports()) process.stdout.write(`${r.name.padEnd(18)}${r.title}: ${r.about}\n`);
      return names.length === 0 && !opts.list ? 2 : 0;
    }
    const format = String(opts.output) as ReportFormat;
    if (!['table', 'json', 'csv'].includes(format)) throw new WeblogError('CONFIG_INVALID', `--output: expected table, json or csv, got "${format}"`);
    const params = { from: parseTime('from', opts.from), to: parseTime('to', opts.to), site: String(opts.site ?? ''), limit: Number(opts.limit) };
    if (params.from !== undefined && params.to !== undefined && params.from >= params.to)
      throw new WeblogError('CONFIG_INVALID', `--from (${String(opts.from)}) must be before --to (${String(opts.to)})`);
    const ch = await openClickHouse(clickhouseConfig(opts), { readOnly: true });
    try {
      await checkReportable(ch);
      for (const name of names) {
        const result = await runReport(ch, name, params);
        process.stdout.write(render(result, format) + (format === 'table' && names.length > 1 ? '\n' : ''));
      }
      return 0;
    } finally {
      await ch.close();
    }
  },
});
