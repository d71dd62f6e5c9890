/**
 * `weblog run`: migrations + shipper + processor in one process, then the
 * headline reports. With no servers configured: the bundled sample log, an
 * in-process queue instead of Kafka, and embedded ClickHouse (chdb) in
 * ./weblog-data. With --brokers / --clickhouse / --source s3://... the same
 * job runs on real servers.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { describeError, WeblogError } from '../../errors.js';
import { createLogger, type Logger } from '../../observe/log.js';
import { Registry } from '../../observe/metrics.js';
import { Processor } from '../../pipeline/process.js';
import { checkQueueState, storedFromQueue } from '../../pipeline/run-state.js';
import type { namedFormats } from '../../parse/format.js';
import { createParser } from '../../parse/scan.js';
import { Shipper } from '../../pipeline/ship.js';
import { formatRate, startWorker } from '../../pipeline/worker.js';
import { rateMeter } from '../../observe/status-line.js';
import { renderTable } from '../../report/render.js';
import { checkReportable, runReport } from '../../report/reports.js';
import { migrate } from '../../schema/migrate.js';
import type { ClickHouse } from '../../sink/clickhouse/types.js';
import { sleep } from '../../retry.js';
import { createKafka, ensureTopic, KafkaLogConsumer, KafkaLogProducer, KafkaShipSink, validateTopic } from '../../transport/kafka.js';
import { MemoryTransport } from '../../transport/memory.js';
import type { LogConsumer, ShipSink } from '../../transport/types.js';
import type { CommandSpec, ParsedOptions } from '../options.js';
import { clickhouseOptions, defaultDataDir, openClickHouse } from './clickhouse.js';
import { brokersOf, workerOptions } from './process.js';
import { enrichOptions, formatOption } from './shared.js';
import { openSource, sourceOptions } from './ship.js';

/** The real sample shipped with weblog: 10,000 Apache lines (Elastic examples, Apache-2.0). */
export const bundledSample = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'logs', 'elastic_apache.log');

async function caughtUp(kafka: Kafka, topic: string, group: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const byPartition = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    // Transactional topics end with a commit marker: consumed means committed >= end - 1.
    return ends.every((e) => Number(e.high) === 0 || (byPartition.get(e.partition) ?? -1) >= Number(e.high) - 1);
  } finally {
    await admin.disconnect();
  }
}

function runStateFile(opts: ParsedOptions, ch: ClickHouse): string {
  return path.join(path.resolve(String(opts.embedded ?? defaultDataDir)), `run-state-${ch.database}.json`);
}

async function storedTotals(ch: ClickHouse): Promise<{ rows: number; rejects: number }> {
  const [r] = await ch.query<{ rows: string | number; rejects: string | number }>('SELECT (SELECT count() FROM access_log) AS rows, (SELECT count() FROM rejects) AS rejects');
  return { rows: Number(r?.rows ?? 0), rejects: Number(r?.rejects ?? 0) };
}

/** " (the lines parse as nginx: --format nginx)" when another named format reads the rejected lines better. */
function formatHint(samples: readonly string[], current: string): string {
  if (samples.length === 0) return '';
  let best = '';
  let bestOk = 0;
  // The richer format first: `common` also reads combined lines (it ignores what follows its last field).
  for (const name of ['combined', 'nginx', 'vhost_combined', 'common'] satisfies (keyof typeof namedFormats)[]) {
    if (name === current) continue;
    const parse = createParser(name);
    const ok = samples.filter((l) => parse(l).ok).length;
    if (ok > bestOk) [best, bestOk] = [name, ok];
  }
  return bestOk * 2 > samples.length ? ` (the rejected lines parse as ${best}: --format ${best})` : ` (first rejected line: ${JSON.stringify(samples[0]?.slice(0, 200))})`;
}

async function printReports(ch: ClickHouse, log: Logger, site: string | undefined): Promise<void> {
  try {
    await checkReportable(ch);
  } catch (err) {
    log.warn(`no reports: ${describeError(err)}`);
    return;
  }
  const [span] = await ch.query<{ last: string }>('SELECT toUnixTimestamp64Milli(max(time)) AS last FROM access_log');
  const last = Number(span?.last ?? 0);
  const common = { site: site ?? '', limit: 10 };
  const out: string[] = [];
  out.push(renderTable(await runReport(ch, 'traffic-hourly', { ...common, from: last - 23 * 3_600_000 })));
  for (const name of ['top-pages', 'countries', 'browsers', 'status']) out.push(renderTable(await runReport(ch, name, common)));
  process.stdout.write(`${out.join('\n')}\n`);
}

export const runCommand: CommandSpec = {
  name: 'run',
  summary: 'Ship, process and report in one process (embedded defaults: no servers needed).',
  usage: 'weblog run [--source URI] [--brokers HOST:PORT] [--clickhouse URL | --embedded DIR] [--follow]',
  options: [
    ...sourceOptions,
    { name: 'brokers', type: 'string', arg: 'HOST:PORT,...', env: ['KAFKA_BROKERS'], description: 'Kafka brokers; default: an in-process queue instead of Kafka' },
    { name: 'topic', type: 'string', default: 'weblog.raw', arg: 'NAME', description: 'topic of raw lines (with --brokers)' },
    { name: 'group', type: 'string', default: 'weblog', arg: 'ID', description: 'consumer group (with --brokers)' },
    { name: 'progress-topic', type: 'string', default: 'weblog.ship-progress', arg: 'NAME', description: 'ship progress topic (with --brokers)' },
    { name: 'dead-letter-topic', type: 'string', default: 'weblog.rejects', arg: 'NAME', description: "dead-letter topic (with --brokers; '' to disable)" },
    ...clickhouseOptions,
    formatOption,
    ...enrichOptions,
    { name: 'site', type: 'string', arg: 'NAME', description: 'value of the site column (default: the line vhost)' },
    { name: 'reports', type: 'boolean', default: true, description: 'print the headline reports at the end (--no-reports to skip)' },
    { name: 'reset', type: 'boolean', default: false, description: 'start over: drop the database and the run state, then ship everything again (in-process queue only)' },
    ...workerOptions.filter((o) => o.name !== 'metrics'),
    { name: 'metrics', type: 'boolean', default: false, description: 'serve /metrics while running' },
  ],
  notes: `Default source: the bundled sample (${path.relative(process.cwd(), bundledSample) || bundledSample}).\nWithout --follow the command ends when every line shipped is in ClickHouse, then prints the reports.`,
  async run(opts: ParsedOptions) {
    const log = createLogger({ level: opts['log-level'] as 'info', name: 'weblog.run' });
    if (!opts.source) {
      if (!existsSync(bundledSample)) throw new WeblogError('CONFIG_INVALID', `no --source given and the bundled sample ${bundledSample} is missing`);
      opts.source = `file://${bundledSample}`;
    }
    const source = openSource(opts);
    const useKafka = brokersOf(opts).length > 0;
    if (opts.reset && useKafka) throw new WeblogError('CONFIG_INVALID', '--reset works with the in-process queue; with --brokers start over with a new --topic, --group and --progress-topic (or delete them) and a new --database');
    const ch = await openClickHouse(opts);
    if (opts.reset) {
      log.warn('--reset: dropping the database and the run state', { database: ch.database, clickhouse: ch.describe() });
      await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
      await ch.exec(`CREATE DATABASE ${ch.database}`);
      rmSync(runStateFile(opts, ch), { force: true });
    }
    await migrate(ch, { log: (m) => log.info(m) });
    const registry = new Registry();
    const follow = opts.follow === true;
    let kafka: Kafka | undefined;
    let memory: MemoryTransport | undefined;
    let sink: ShipSink;
    let consumer: LogConsumer & { drained?: Promise<void>; destroy?: () => Promise<void> };
    let topic: string;
    const group = String(opts.group);
    let dlq: KafkaLogProducer | undefined;
    if (useKafka) {
      kafka = createKafka({ brokers: brokersOf(opts), logger: log });
      topic = validateTopic(String(opts.topic), '--topic');
      const progressTopic = validateTopic(String(opts['progress-topic']), '--progress-topic');
      const dlqTopic = String(opts['dead-letter-topic'] ?? '');
      await ensureTopic(kafka, topic);
      await ensureTopic(kafka, progressTopic, { partitions: 1, compacted: true });
      if (dlqTopic) {
        await ensureTopic(kafka, validateTopic(dlqTopic, '--dead-letter-topic'), { partitions: 1 });
        dlq = new KafkaLogProducer(kafka);
      }
      sink = new KafkaShipSink(kafka, { progressTopic, transactionalId: `weblog-run-${progressTopic}` });
      consumer = new KafkaLogConsumer(kafka, { topic, groupId: group, maxWaitTimeMs: 200, log });
    } else {
      mkdirSync(path.dirname(runStateFile(opts, ch)), { recursive: true });
      memory = new MemoryTransport({ stateFile: runStateFile(opts, ch) });
      checkQueueState(memory, await storedFromQueue(ch, memory.topic), `database ${ch.database}`);
      topic = memory.topic;
      sink = memory.shipSink();
      consumer = memory.consumer();
    }
    const processor = await Processor.create(
      ch,
      {
        format: String(opts.format),
        enrich: { anonymizeIp: opts['anonymize-ip'] === true, geoip: opts.geoip as string | undefined, asn: opts.asn as string | undefined, visitorSalt: String(opts['visitor-salt'] ?? '') },
        site: opts.site as string | undefined,
        deadLetterTopic: useKafka ? String(opts['dead-letter-topic'] ?? '') : '',
        dialect: ch.dialect,
        maxLineBytes: Number(opts['max-line-bytes']),
        logCaughtUp: useKafka,
      },
      { log, registry, dlq },
    );
    consumer.onAssignment(() => processor.onAssignment());
    const shipper = new Shipper(source, sink, { topic, follow, pollIntervalMs: Number(opts['poll-interval-ms']), maxLineBytes: Number(opts['max-line-bytes']) }, log, registry);
    const pm = processor.metrics;
    const sm = shipper.metrics;
    const rate = rateMeter(() => pm.consumed.total());
    const worker = await startWorker({
      name: 'weblog run',
      log,
      registry,
      metricsPort: opts.metrics ? Number(opts['metrics-port']) : undefined,
      shutdownTimeoutMs: Number(opts['shutdown-timeout-ms']),
      progress: () =>
        `shipped ${sm.lines.total().toLocaleString('en-US')} lines (${sm.objects.total()} of ${sm.objects.total() + (sm.pending.get() ?? 0)} objects done), stored ${pm.inserted.total().toLocaleString('en-US')} rows + ${pm.rejected.total()} rejects, ${formatRate(rate())} lines/s`,
      drain: async () => {
        await shipper.stop();
        memory?.end();
        await consumer.close();
        await sink.close();
        await dlq?.close();
      },
      abort: async () => {
        await shipper.stop();
        await (consumer.destroy?.() ?? consumer.close());
      },
    });
    let failure: unknown;
    consumer.onFatal((err) => {
      failure ??= err;
      log.error('stopping: permanent error', { error: describeError(err) });
      memory?.end();
      void shipper.stop();
    });
    log.info('running', { source: source.describe(), transport: useKafka ? `kafka ${brokersOf(opts).join(',')} topic ${topic}` : 'in-process queue', clickhouse: ch.describe(), follow });
    await consumer.start((b, c) => processor.handleBatch(b, c));
    try {
      await shipper.run();
      if (!follow) {
        if (memory) {
          memory.end();
          await consumer.drained;
        } else if (kafka) {
          const k = kafka;
          while (failure === undefined && !(pm.consumed.total() >= sm.lines.total() && (await caughtUp(k, topic, group)))) await sleep(250);
        }
        await worker.stop();
      } else await worker.stopped;
    } catch (err) {
      failure ??= err;
      await worker.stop();
    }
    if (failure) {
      await ch.close();
      throw failure;
    }
    const summary = { lines_shipped: sm.lines.total(), objects: sm.objects.total(), failed_objects: sm.failures.total(), rows_inserted: pm.inserted.total(), rejected: pm.rejected.total(), skipped_duplicates: pm.skipped.total() };
    log.info('done', summary);
    const mostlyRejected = summary.rejected >= 10 && summary.rejected > 0.9 * (summary.rows_inserted + summary.rejected);
    if (mostlyRejected) log.warn(`nearly every line was rejected (${summary.rejected.toLocaleString('en-US')} of ${(summary.rows_inserted + summary.rejected).toLocaleString('en-US')}): check --format${formatHint(processor.rejectSamples, String(opts.format))}`);
    try {
      if (opts.reports) await printReports(ch, log, opts.site as string | undefined);
    } catch (err) {
      log.error('reports failed', { error: describeError(err) });
    }
    const where =
      ch.kind === 'embedded'
        ? `${ch.describe()}\n  more reports: npx weblog report --list; e.g. npx weblog report referrers --embedded ${path.relative(process.cwd(), path.resolve(String(opts.embedded))) || '.'}`
        : `${ch.describe()}\n  more reports: npx weblog report --list; e.g. npx weblog report referrers --clickhouse URL --database ${ch.database}`;
    const totals = summary.lines_shipped === 0 && summary.skipped_duplicates === 0 ? await storedTotals(ch) : undefined;
    const headline = totals
      ? `already up to date: nothing new in ${source.describe()}; the database holds ${totals.rows.toLocaleString('en-US')} rows and ${totals.rejects.toLocaleString('en-US')} rejects (--reset starts over).`
      : `${summary.lines_shipped.toLocaleString('en-US')} lines shipped, ${summary.rows_inserted.toLocaleString('en-US')} rows stored, ${summary.rejected.toLocaleString('en-US')} rejected.`;
    process.stderr.write(`\nweblog run: ${headline}\ndata: ${where}\n`);
    await ch.close();
    return sm.failures.total() > 0 || mostlyRejected || worker.aborted ? 1 : 0;
  },
};
