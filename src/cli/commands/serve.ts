/** `weblog serve`: the live dashboard and its JSON API. */
import { startDashboardServer } from '../../dashboard/server.js';
import { checkReportable } from '../../report/reports.js';
import { withClickHouse } from '../../app/clickhouse.js';
import { clickhouseConfig, clickhouseOptions, dashboardOptions, serveConfig, workerConfig } from '../option-groups.js';
import { defineCommand } from '../options.js';
import { alertOptions, alertsConfig } from '../alert-options.js';
import { AlertRunner } from '../../alerts/runner.js';

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'Serve the live dashboard and its read-only JSON API (127.0.0.1:8080).',
  usage: 'weblog serve [--port N] [--host ADDR] [--clickhouse URL | --embedded DIR]',
  options: [
    ...dashboardOptions,
    ...alertOptions,
    ...clickhouseOptions,
    { name: 'log-level', type: 'string', default: 'info', arg: 'debug|info|warn|error', description: 'log level (JSON lines on stderr)' },
  ],
  notes:
    'The page refreshes itself while processors insert. API: /api (index), /api/meta, /api/reports/NAME?from=ISO&to=ISO&site=S&limit=N&where=F=V, /api/alerts, /healthz.\n' +
    'An embedded data folder can be open in one process only: to watch `weblog run --follow` live, give that run --serve instead.\n' +
    'It has no login: keep it on loopback, or put it behind a reverse proxy with authentication (docs/dashboard.md).',
  async run(opts) {
    const { log } = workerConfig({ ...opts, metrics: false, 'metrics-port': 0, 'shutdown-timeout-ms': 0 }, 'weblog.serve');
    return withClickHouse(clickhouseConfig(opts), { readOnly: true }, async (ch) => {
      await checkReportable(ch);
      // Alert rules in --config: evaluated here too, shown on the page (and sent to --webhook when given).
      const alerts = alertsConfig(opts, log);
      const runner = alerts.rules.length > 0 ? new AlertRunner(ch, alerts.rules, { log, webhook: alerts.webhook, intervalMs: alerts.intervalMs }) : undefined;
      const server = await startDashboardServer(ch, { ...serveConfig(opts, log), ...(runner ? { alerts: () => runner.status() } : {}) });
      runner?.start();
      process.stderr.write(`weblog serve: dashboard at ${server.url} (API: ${server.url}api), data: ${ch.describe()}; Ctrl-C stops it\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await runner?.stop();
      await server.close();
      process.stderr.write('weblog serve: stopped\n');
      return 0;
    });
  },
});
