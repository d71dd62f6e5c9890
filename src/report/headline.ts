/** The reports `weblog run` prints at the end: the last day per hour, top pages, countries, browsers, status codes. */
import type { ClickHouse } from '../sink/clickhouse/types.js';
import { lastEventTime } from '../sink/queries.js';
import { renderTable } from './render.js';
import { checkReportable, runReport } from './reports.js';

/** The headline reports as one text; throws (SERVER_TOO_OLD, NO_DATA) when reports cannot run here. */
export async function headlineReports(ch: ClickHouse, site: string | undefined): Promise<string> {
  await checkReportable(ch);
  const last = await lastEventTime(ch);
  const common = { site: site ?? '', limit: 10 };
  const out: string[] = [];
  out.push(renderTable(await runReport(ch, 'traffic-hourly', { ...common, from: last - 23 * 3_600_000 })));
  for (const name of ['top-pages', 'countries', 'browsers', 'status']) out.push(renderTable(await runReport(ch, name, common)));
  return `${out.join('\n')}\n`;
}
