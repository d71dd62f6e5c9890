/** The reports' reference (docs/reports.md), written from the SQL files' headers so it cannot drift from them. */
import type { ReportDef } from './reports.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function reportsMarkdown(defs: ReportDef[]): string {
  const out = [
    '# Reports',
    '',
    '<!-- Written by `npm run docs:reports` from the headers of clickhouse-schema/reports/*.sql; a test keeps it equal. -->',
    '',
    'Every report runs as `weblog report NAME` (table, `--output json` or `csv`), as `GET /api/reports/NAME` under',
    '`weblog serve`, and as a table of the dashboard. Parameters: `--from` / `--to` (UTC unless a zone is given),',
    '`--site`, `--limit` (top-N reports). Integers are JSON numbers (exact decimal strings beyond 2^53); empty',
    'labels read `(unknown)`; times are `YYYY-MM-DD hh:mm:ss` in UTC. Figures marked *approximate* come from',
    'uniqCombined, t-digest or topK states and are exact only for small counts.',
    '',
    '**Visits** (`visits`, `entry-pages`, `exit-pages`, `visit-flow`, exact) are cut from the raw rows with window',
    "functions: one visitor's page views (bots and static files left out, by the rules of `bots` and `static-files`),",
    'in time order (ties by path), with every pause under `--visit-gap` minutes (default 30; `visit_gap` in the API).',
    'A visit counts in the range it starts in, so adjacent ranges never count one twice; it is followed up to one gap',
    "past the range's end (a longer chain of views is cut there). `visitor_id` is keyed per UTC day and by",
    '`--visitor-salt`, so a visit ends at UTC midnight and never spans a salt change. Needs ClickHouse 22.8 or chdb.',
    '',
    '| report | what it shows |',
    '|---|---|',
    ...defs.map((d) => `| [\`${d.name}\`](#${d.name}) | ${cell(d.title)} |`),
    '',
  ];
  for (const d of defs) {
    out.push(`## ${d.name}`, '', `**${d.title}**: ${d.about}.`, '', '| column | meaning |', '|---|---|');
    for (const c of d.columns) out.push(`| \`${c.name}\` | ${cell(c.about)} |`);
    out.push('');
  }
  return out.join('\n');
}
