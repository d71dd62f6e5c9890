/** `weblog alerts`: evaluates the alert rules of the configuration file every interval; events go to the log and a webhook. */
import { AlertRunner } from '../../alerts/runner.js';
import { withClickHouse } from '../../app/clickhouse.js';
import { WeblogError } from '../../errors.js';
import { checkReportable } from '../../report/reports.js';
import { alertOptions, alertsConfig } from '../alert-options.js';
import { clickhouseConfig, clickhouseOptions, workerConfig } from '../option-groups.js';
import { defineCommand } from '../options.js';

export const alertsCommand = defineCommand({
  name: 'alerts',
  summary: 'Evaluate the alert rules of --config every minute; send firings and resolutions to the log and a webhook.',
  usage: 'weblog alerts --config weblog.yaml [--webhook URL] [--once] [--clickhouse URL | --embedded DIR]',
  options: [
    ...alertOptions,
    { name: 'once', type: 'boolean', default: false, description: 'evaluate once, print the firing alerts as JSON lines and exit (for cron or a check)' },
    ...clickhouseOptions,
    { name: 'log-level', type: 'string', default: 'info', arg: 'debug|info|warn|error', description: 'log level (JSON lines on stderr)' },
  ],
  notes:
    'Rules live in the configuration file under alert-rules (docs/alerts.md): metric hits, error_rate, visitors or ip_rate over a window,\n' +
    'above or below a threshold (or a % of the same window a day or a week before), filtered like reports (where).\n' +
    'Each alert fires once and resolves once; run the rules in one process (weblog alerts, or weblog serve with --webhook), not in both.',
  async run(opts) {
    const { log } = workerConfig({ ...opts, metrics: false, 'metrics-port': 0, 'shutdown-timeout-ms': 0 }, 'weblog.alerts');
    const cfg = alertsConfig(opts, log);
    if (cfg.rules.length === 0)
      throw new WeblogError('CONFIG_INVALID', 'weblog alerts: no rules; give --config FILE with an alert-rules list (docs/alerts.md shows examples)');
    return withClickHouse(clickhouseConfig(opts), { readOnly: true }, async (ch) => {
      await checkReportable(ch);
      const runner = new AlertRunner(ch, cfg.rules, { log, webhook: cfg.webhook, intervalMs: cfg.intervalMs });
      if (opts.once) {
        await runner.evaluate();
        for (const f of runner.status().firing) process.stdout.write(`${JSON.stringify(f)}\n`);
        await runner.stop();
        return runner.status().errors.length > 0 ? 1 : 0;
      }
      process.stderr.write(
        `weblog alerts: ${cfg.rules.length} rules every ${cfg.intervalMs / 1000} s on ${ch.describe()}${cfg.webhook ? ', webhook on' : ''}; Ctrl-C stops\n`,
      );
      runner.start();
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await runner.stop();
      process.stderr.write('weblog alerts: stopped\n');
      return 0;
    });
  },
});
