/**
 * `weblog run`: migrations + shipper + processor in one process, then the
 * headline reports. With no servers configured: the bundled sample log, an
 * in-process queue instead of Kafka, and embedded ClickHouse (chdb) in
 * ./weblog-data. With --brokers / --clickhouse / --source s3://... the same
 * job runs on real servers.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeblogError } from '../../errors.js';
import { runAll } from '../../app/jobs.js';
import { kafkaDefaults } from '../../transport/kafka-transport.js';
import {
  brokersOf,
  clickhouseConfig,
  clickhouseOptions,
  clusterOptions,
  dashboardOptions,
  enrichConfig,
  enrichOptions,
  failedObjectOptions,
  formatOption,
  kafkaAuthOptions,
  kafkaConfig,
  serveConfig,
  siteOption,
  sourceConfig,
  sourceOptions,
  workerConfig,
  workerOptionsFor,
} from '../option-groups.js';
import { defineCommand } from '../options.js';
import type { ClickHouseConfig } from '../../sink/clickhouse/open.js';
import { clickhouseDefaults } from '../../sink/clickhouse/types.js';

/** The HTML dashboard's default place: beside the embedded data folder, or in the current folder for a server. */
export function dashboardFileFor(cfg: ClickHouseConfig): string {
  const name = 'weblog-dashboard.html';
  return cfg.url ? path.resolve(name) : path.join(path.dirname(path.resolve(cfg.embedded ?? '.')), name);
}

/** The real sample shipped with weblog, in the package's data folder: 10,000 Apache lines (Elastic examples, Apache-2.0). */
export const bundledSample = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'data', 'sample', 'elastic_apache.log');

export const runCommand = defineCommand({
  name: 'run',
  summary: 'Ship, process and report in one process (embedded defaults: no servers needed).',
  usage: 'weblog run [--source URI] [--brokers HOST:PORT] [--clickhouse URL | --embedded DIR] [--follow]',
  options: [
    ...sourceOptions,
    ...failedObjectOptions,
    {
      name: 'brokers',
      type: 'string',
      arg: 'HOST:PORT,...',
      env: ['KAFKA_BROKERS'],
      description: 'Kafka brokers; default: an in-process queue instead of Kafka',
    },
    ...kafkaAuthOptions,
    { name: 'topic', type: 'string', default: kafkaDefaults.topic, arg: 'NAME', description: 'topic of raw lines (with --brokers)' },
    { name: 'group', type: 'string', default: kafkaDefaults.group, arg: 'ID', description: 'consumer group (with --brokers)' },
    { name: 'progress-topic', type: 'string', default: kafkaDefaults.progressTopic, arg: 'NAME', description: 'ship progress topic (with --brokers)' },
    {
      name: 'dead-letter-topic',
      type: 'string',
      default: kafkaDefaults.deadLetterTopic,
      arg: 'NAME',
      description: "dead-letter topic (with --brokers; '' to disable)",
    },
    ...clickhouseOptions,
    ...clusterOptions,
    formatOption,
    ...enrichOptions,
    siteOption,
    { name: 'reports', type: 'boolean', default: true, description: 'print the headline reports at the end (--no-reports to skip)' },
    {
      name: 'html',
      type: 'string',
      arg: 'FILE',
      description:
        'where to write the HTML dashboard at the end; default: weblog-dashboard.html next to the data folder (with --clickhouse: in the current folder)',
    },
    { name: 'dashboard', type: 'boolean', default: true, description: 'write the HTML dashboard at the end (--no-dashboard to skip)' },
    {
      name: 'serve',
      type: 'boolean',
      default: false,
      description: 'serve the live dashboard (--host, --port) while running; without --follow, until Ctrl-C after the run',
    },
    ...dashboardOptions,
    {
      name: 'reset',
      type: 'boolean',
      default: false,
      description: 'start over: drop the database and the run state, then ship everything again (in-process queue only)',
    },
    ...workerOptionsFor('run'),
  ],
  notes: `Default source: the bundled sample (data/sample/elastic_apache.log in the package: 10,000 real Apache lines).\nWithout --follow the command ends when every line shipped is in ClickHouse, then prints the reports.`,
  async run(opts) {
    const worker = workerConfig(opts, 'weblog.run');
    if (!opts.source) {
      if (!existsSync(bundledSample)) throw new WeblogError('CONFIG_INVALID', `no --source given and the bundled sample ${bundledSample} is missing`);
      opts.source = `file://${bundledSample}`;
    }
    const useKafka = brokersOf(opts).length > 0;
    if (opts.reset && useKafka)
      throw new WeblogError(
        'CONFIG_INVALID',
        '--reset works with the in-process queue; with --brokers start over with a new --topic, --group and --progress-topic (or delete them) and a new --database',
      );
    const clickhouse = clickhouseConfig(opts);
    const html = !opts.dashboard ? undefined : opts.html ? String(opts.html) : dashboardFileFor(clickhouse);
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const onSignal = () => stop();
    if (opts.serve) {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    const s = await runAll({
      source: sourceConfig(opts),
      kafka: useKafka ? kafkaConfig(opts, worker.log) : undefined,
      clickhouse,
      processor: {
        format: opts.format,
        enrich: enrichConfig(opts),
        site: opts.site as string | undefined,
        maxLineBytes: opts['max-line-bytes'],
      },
      ship: {
        follow: opts.follow,
        pollIntervalMs: opts['poll-interval-ms'],
        maxLineBytes: opts['max-line-bytes'],
        retryFailed: opts['retry-failed'],
        skipFailed: opts['skip-failed'],
      },
      reset: opts.reset,
      reports: opts.reports,
      html,
      serve: opts.serve
        ? {
            ...serveConfig(opts),
            onListening: (url) => process.stderr.write(`weblog run: live dashboard at ${url}\n`),
            until: stopped.then(() => undefined),
          }
        : undefined,
      worker,
    }).finally(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
    if (s.reports) process.stdout.write(`${s.reports}\n`);
    const headline = s.upToDate
      ? `already up to date: nothing new in ${String(opts.source)}; the database holds ${s.upToDate.rows.toLocaleString('en-US')} rows and ${s.upToDate.rejects.toLocaleString('en-US')} rejects (--reset starts over).`
      : `${s.linesShipped.toLocaleString('en-US')} lines shipped, ${s.rowsInserted.toLocaleString('en-US')} rows stored, ${s.rejected.toLocaleString('en-US')} rejected.`;
    const where = s.embedded
      ? `--embedded ${path.relative(process.cwd(), path.resolve(clickhouse.embedded ?? '.')) || '.'}`
      : `--clickhouse URL --database ${clickhouse.database ?? clickhouseDefaults.database}`;
    const more = `npx weblog report referrers ${where}`;
    const dashboard = s.dashboardFile
      ? `dashboard: ${s.dashboardFile}\n  open it in a browser; live, refreshing while data arrives: npx weblog serve ${where}\n`
      : '';
    const failed = s.failedObjects.length
      ? `failed: ${s.failedObjects.length} object(s) could not be read (the lines before the fault are stored); fix them, or run again with --retry-failed or --skip-failed:\n${s.failedObjects.map((f) => `  ${f.key}: ${f.reason}\n`).join('')}`
      : '';
    process.stderr.write(`\nweblog run: ${headline}\n${failed}data: ${s.clickhouse}\n${dashboard}  more reports: npx weblog report --list; e.g. ${more}\n`);
    return s.failedObjects.length > 0 || s.mostlyRejected || s.aborted ? 1 : 0;
  },
});
