/** The reports' reference (docs/reports.md), written from the SQL files' headers so it cannot drift from them. */
import { filterFields, rollups, tableOf } from '../schema/filters.js';
import { compareSpec } from './compare.js';
import type { ReportDef } from './reports.js';

/** One line on what a report's filters and --compare do. */
function filtersLine(d: ReportDef): string {
  const table = tableOf(d.sql);
  if (table === undefined || table === 'rejects') return 'Filters: none (it reads the rejects).';
  const rollup = rollups().get(table);
  const own = rollup ? [...rollup.dims].map((f) => `\`${f}\``).join(', ') : '';
  const filters = rollup ? `Filters: on \`${table}\` for ${own}; any other field reads the raw rows instead.` : 'Filters: every field, on the raw rows.';
  const cmp = compareSpec(d);
  return cmp ? `${filters} \`--compare\`: ${cmp.values.map((v) => `\`${v}\``).join(', ')} by \`${cmp.by}\`.` : filters;
}

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
    "**Filters** (`--where FIELD=VALUE`, repeatable; `where=` in the API; the live page's filter bar: click a value in a",
    'table): `=` or `!=`; `path=/api/*` is a prefix, `status=5xx` a class, `(unknown)` the empty value. Several `=` on one',
    'field match any of them; everything else must all hold. Values are bound as query parameters.',
    '',
    '| field | meaning |',
    '|---|---|',
    ...Object.entries(filterFields).map(([f, d]) => `| \`${f}\` | ${cell(d.about)} |`),
    '',
    'A rollup report takes filters on its own dimensions; a filter on any other field makes it aggregate the raw rows',
    "the same way (its view's query over the filtered rows): the same numbers, slower, and only where raw rows are",
    'still kept; the output says so (`rows_from: raw-for-rollup`, `filter_note`). Visits reports cut visits from the',
    'page views that match (a `path` filter keeps only those pages).',
    '',
    '**Compare** (`--compare previous|year`, `compare=` in the API; needs `--from` and `--to`): the report runs again',
    'over the period before (the range shifted back by its length, whole months for `traffic-monthly`) or a year',
    'before, and each row gains `VALUE_prev` (null when that period had none) and `VALUE_change_pct`. Time rows match',
    'their shifted time, other rows their label; top-N reports look the previous values up among up to 100,000 rows.',
    '',
    '**Verified crawlers** (`impostors`): a request whose user agent claims a crawler whose operator publishes its',
    'address ranges gets `bot_claim` (the operator) and `bot_verified` (its address is in those ranges, checked on the',
    'full address before any anonymisation). The ranges are bundled (`src/enrich/data/crawler-ranges.json`, refreshed',
    'by `npm run data:bots`; nothing is fetched at run time); an operator without bundled ranges is not checked, so',
    'its crawlers are never called impostors. Ranges go stale: refresh them, or a new range makes real crawlers look',
    'like impostors.',
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
    out.push(`## ${d.name}`, '', `**${d.title}**: ${d.about}.`, '', filtersLine(d), '', '| column | meaning |', '|---|---|');
    for (const c of d.columns) out.push(`| \`${c.name}\` | ${cell(c.about)} |`);
    out.push('');
  }
  return out.join('\n');
}
