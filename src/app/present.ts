/** What `weblog run` shows after its data job: the headline reports and the HTML dashboard. */
import { describeError } from '../errors.js';
import { writeStaticDashboard } from '../dashboard/data.js';
import { headlineReports } from '../report/headline.js';
import { checkReportable } from '../report/reports.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';
import type { RunJobConfig, RunSummary } from './run-job.js';

/** Fills `summary.reports` and `summary.dashboardFile` as `cfg` asks; a failure is a warning, the data is stored. */
export async function presentRun(ch: ClickHouse, cfg: RunJobConfig, summary: RunSummary): Promise<void> {
  const { log } = cfg.worker;
  if (cfg.reports) {
    try {
      summary.reports = await headlineReports(ch, cfg.processor.site);
    } catch (err) {
      log.warn(`no reports: ${describeError(err)}`);
    }
  }
  if (cfg.html !== undefined) {
    try {
      await checkReportable(ch);
      summary.dashboardFile = await writeStaticDashboard(ch, cfg.html, { site: cfg.processor.site });
    } catch (err) {
      log.warn(`no dashboard: ${describeError(err)}`);
    }
  }
}
