/** `weblog process`: a stream-processor replica (Kafka consumer group -> ClickHouse). */
import { describeError } from '../../errors.js';
import { createLogger } from '../../observe/log.js';
import { Registry } from '../../observe/metrics.js';
import { Processor } from '../../pipeline/process.js';
import { formatRate, startWorker } from '../../pipeline/worker.js';
import { rateMeter } from '../../observe/status-line.js';
import { migrate } from '../../schema/migrate.js';
import { createKafka, ensureTopic, KafkaLogConsumer, KafkaLogProducer, validateTopic } from '../../transport/kafka.js';
import type { CommandSpec, ParsedOptions } from '../options.js';
import { clickhouseOptions, openClickHouse } from './clickhouse.js';
import { enrichOptions, formatOption } from './shared.js';

export const kafkaOptions = [
  { name: 'brokers', type: 'string', arg: 'HOST:PORT,...', env: ['KAFKA_BROKERS'], description: 'Kafka bootstrap brokers (required)' },
  { name: 'topic', type: 'string', default: 'weblog.raw', arg: 'NAME', description: 'topic of raw log lines' },
] as const satisfies CommandSpec['options'];

/** Default metrics ports: one per kind of worker, so `ship` and `process` on one host do not collide. */
export const metricsPorts = { process: 9464, ship: 9465 } as const;

/** The worker options with the metrics port default of one kind of worker. */
export function workerOptionsFor(kind: keyof typeof metricsPorts): CommandSpec['options'] {
  return workerOptions.map((o) => (o.name === 'metrics-port' ? { ...o, default: metricsPorts[kind] } : o));
}

export const workerOptions = [
  { name: 'metrics-port', type: 'number', default: metricsPorts.process, max: 65535, unit: 'TCP port, 0 = any free port', description: 'Prometheus /metrics and /healthz endpoint on 127.0.0.1' },
  { name: 'metrics', type: 'boolean', default: true, description: 'serve /metrics (--no-metrics to turn off)' },
  { name: 'shutdown-timeout-ms', type: 'number', default: 30000, unit: 'ms', description: 'longest graceful stop before aborting' },
  { name: 'log-level', type: 'string', default: 'info', arg: 'debug|info|warn|error', description: 'log level (JSON lines on stderr)' },
] as const satisfies CommandSpec['options'];

export function brokersOf(opts: ParsedOptions): string[] {
  return String(opts.brokers ?? '').split(',').map((b) => b.trim()).filter(Boolean);
}

export const processCommand: CommandSpec = {
  name: 'process',
  summary: 'Run a stream-processor replica: Kafka -> parse/enrich -> ClickHouse, exactly once.',
  usage: 'weblog process --brokers HOST:PORT [--topic weblog.raw] [--group weblog] [--clickhouse URL | --embedded DIR]',
  options: [
    ...kafkaOptions,
    { name: 'group', type: 'string', default: 'weblog', arg: 'ID', description: 'consumer group; add replicas with the same group to scale out' },
    { name: 'dead-letter-topic', type: 'string', default: 'weblog.rejects', arg: 'NAME', description: "topic for rejected lines ('' to disable)" },
    ...clickhouseOptions,
    formatOption,
    ...enrichOptions,
    { name: 'site', type: 'string', arg: 'NAME', description: 'value of the site column (default: the line vhost)' },
    { name: 'max-insert-rows', type: 'number', default: 50000, min: 1, unit: 'rows', description: 'largest INSERT' },
    { name: 'insert-concurrency', type: 'number', default: 2, min: 1, max: 64, unit: 'INSERTs', description: 'INSERTs in flight at once' },
    { name: 'partitions-concurrently', type: 'number', default: 2, min: 1, max: 1024, unit: 'partitions', description: 'partitions processed at once by this replica' },
    { name: 'max-batch-bytes', type: 'number', default: 4194304, min: 1024, unit: 'bytes', description: 'largest fetch per partition (upper bound of a batch)' },
    { name: 'flush-interval-ms', type: 'number', default: 500, unit: 'ms', description: 'longest wait for a fuller batch at low traffic' },
    { name: 'max-line-bytes', type: 'number', default: 65536, min: 256, max: 268435456, unit: 'bytes', description: 'longer lines (from any producer) become line_too_long rejects holding their first bytes' },
    { name: 'session-timeout-ms', type: 'number', default: 30000, min: 1000, unit: 'ms', description: 'Kafka group session timeout: how soon partitions of a dead replica move' },
    { name: 'create-topics', type: 'boolean', default: true, description: 'create the topics if missing' },
    { name: 'partitions', type: 'number', default: 6, min: 1, max: 10000, unit: 'partitions', description: 'partitions of topics created here' },
    ...workerOptions,
  ],
  notes: 'Applies the ClickHouse migrations first (idempotent). SIGTERM/SIGINT drain; a second signal exits at once.',
  async run(opts) {
    const log = createLogger({ level: opts['log-level'] as 'info', name: 'weblog.process' });
    const topic = validateTopic(String(opts.topic), '--topic');
    const dlqTopic = String(opts['dead-letter-topic'] ?? '');
    const kafka = createKafka({ brokers: brokersOf(opts), logger: log });
    const ch = await openClickHouse(opts);
    await migrate(ch, { log: (m) => log.info(m) });
    if (opts['create-topics']) {
      await ensureTopic(kafka, topic, { partitions: Number(opts.partitions) });
      if (dlqTopic) await ensureTopic(kafka, dlqTopic, { partitions: 1 });
    }
    const registry = new Registry();
    const dlq = dlqTopic ? new KafkaLogProducer(kafka) : undefined;
    const processor = await Processor.create(
      ch,
      {
        format: String(opts.format),
        enrich: { anonymizeIp: opts['anonymize-ip'] === true, geoip: opts.geoip as string | undefined, asn: opts.asn as string | undefined, visitorSalt: String(opts['visitor-salt'] ?? '') },
        site: opts.site as string | undefined,
        maxInsertRows: Number(opts['max-insert-rows']),
        insertConcurrency: Number(opts['insert-concurrency']),
        maxLineBytes: Number(opts['max-line-bytes']),
        deadLetterTopic: dlqTopic,
        dialect: ch.dialect,
      },
      { log, registry, dlq },
    );
    const consumer = new KafkaLogConsumer(kafka, {
      topic,
      groupId: String(opts.group),
      partitionsConcurrently: Number(opts['partitions-concurrently']),
      maxBytesPerPartition: Number(opts['max-batch-bytes']),
      maxWaitTimeMs: Number(opts['flush-interval-ms']),
      sessionTimeoutMs: Number(opts['session-timeout-ms']),
      log,
    });
    consumer.onAssignment((assigned) => {
      processor.onAssignment();
      log.info('partitions assigned', { partitions: assigned.map((a) => a.partition).join(',') });
    });
    const m = processor.metrics;
    const rate = rateMeter(() => m.consumed.total());
    const worker = await startWorker({
      name: 'weblog process',
      log,
      registry,
      metricsPort: opts.metrics ? Number(opts['metrics-port']) : undefined,
      shutdownTimeoutMs: Number(opts['shutdown-timeout-ms']),
      healthy: () => consumer.health(),
      progress: () => `${m.consumed.total().toLocaleString('en-US')} lines, ${m.inserted.total().toLocaleString('en-US')} inserted, ${m.rejected.total()} rejected, ${formatRate(rate())} lines/s`,
      drain: async () => {
        await consumer.close();
        await dlq?.close();
        await ch.close();
      },
      abort: async () => {
        await consumer.destroy();
        await ch.close();
      },
    });
    let failed: unknown;
    consumer.onFatal((err) => {
      failed = err;
      log.error('stopping: permanent error', { error: describeError(err) });
      void worker.stop();
    });
    log.info('processing', { topic, group: String(opts.group), clickhouse: ch.describe(), dialect: ch.dialect });
    await consumer.start((batch, ctl) => processor.handleBatch(batch, ctl));
    await worker.stopped;
    log.info('stopped', { consumed: m.consumed.total(), inserted: m.inserted.total(), rejected: m.rejected.total(), skipped: m.skipped.total() });
    return failed === undefined && !worker.aborted ? 0 : 1;
  },
};
