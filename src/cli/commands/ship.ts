/** `weblog ship`: stream log objects from S3 or local files into Kafka. */
import { createLogger } from '../../observe/log.js';
import { Registry } from '../../observe/metrics.js';
import { Shipper } from '../../pipeline/ship.js';
import { formatRate, startWorker } from '../../pipeline/worker.js';
import { rateMeter } from '../../observe/status-line.js';
import { WeblogError } from '../../errors.js';
import { FileSource, parseSource, S3Source, type ObjectSource } from '../../source/objects.js';
import { createKafka, ensureTopic, KafkaShipSink, validateTopic } from '../../transport/kafka.js';
import type { CommandSpec, ParsedOptions } from '../options.js';
import { brokersOf, kafkaOptions, workerOptionsFor } from './process.js';

export const sourceOptions: CommandSpec['options'] = [
  { name: 'source', type: 'string', arg: 'URI', description: 's3://bucket/prefix, or file:///path/to/dir-or-glob (e.g. file:///var/log/nginx/access*.log*)' },
  { name: 'endpoint', type: 'string', arg: 'URL', env: ['S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'], description: 'S3-compatible endpoint (MinIO, s3proxy, ...); default: AWS' },
  { name: 'region', type: 'string', arg: 'NAME', env: ['AWS_REGION'], default: 'us-east-1', description: 'S3 region' },
  { name: 'include', type: 'string', arg: 'REGEX', description: 'ship only keys matching this regular expression' },
  { name: 'order', type: 'string', default: 'key', arg: 'key|modified', description: 'order objects by key or by last-modified time' },
  { name: 'follow', type: 'boolean', default: false, description: 'keep polling for new objects and appended lines (real time)' },
  { name: 'poll-interval-ms', type: 'number', default: 5000, min: 10, unit: 'ms', description: 'poll interval with --follow' },
  { name: 'max-line-bytes', type: 'number', default: 65536, min: 256, max: 268435456, unit: 'bytes', description: 'longer lines are sent as rejects (line_too_long), never cut silently' },
];

export function openSource(opts: ParsedOptions): ObjectSource {
  if (!opts.source) throw new WeblogError('CONFIG_INVALID', '--source is required: s3://bucket/prefix or file:///path');
  const src = parseSource(String(opts.source));
  let include: RegExp | undefined;
  if (opts.include) {
    try {
      include = new RegExp(String(opts.include));
    } catch (err) {
      throw new WeblogError('CONFIG_INVALID', `--include: not a regular expression: ${(err as Error).message}`);
    }
  }
  const order = String(opts.order);
  if (order !== 'key' && order !== 'modified') throw new WeblogError('CONFIG_INVALID', `--order: expected key or modified, got "${order}"`);
  if (src.kind === 'file') return new FileSource({ path: src.path, include, order });
  const key = process.env.S3_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID;
  const secret = process.env.S3_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY;
  return new S3Source({
    bucket: src.bucket,
    prefix: src.prefix,
    endpoint: opts.endpoint as string | undefined,
    region: String(opts.region),
    credentials: key && secret ? { accessKeyId: key, secretAccessKey: secret } : undefined,
    include,
    order,
  });
}

export const shipCommand: CommandSpec = {
  name: 'ship',
  summary: 'Stream log objects (S3 or local files) into Kafka, one message per line, resumable.',
  usage: 'weblog ship --source s3://bucket/prefix|file:///path --brokers HOST:PORT [--topic weblog.raw] [--follow]',
  options: [
    ...sourceOptions,
    ...kafkaOptions,
    { name: 'progress-topic', type: 'string', default: 'weblog.ship-progress', arg: 'NAME', description: 'compacted topic with the progress of every object' },
    { name: 'key', type: 'string', default: 'none', arg: 'none|source|ip', description: 'message key: none, the source object, or the client IP (first field)' },
    { name: 'batch-lines', type: 'number', default: 5000, min: 1, unit: 'lines', description: 'lines per Kafka transaction' },
    { name: 'replica-index', type: 'number', default: 0, description: 'this replica (0-based); objects are sharded by key hash' },
    { name: 'replicas', type: 'number', default: 1, min: 1, max: 10000, description: 'number of shipper replicas' },
    { name: 'reship-changed', type: 'boolean', default: true, description: 'ship an object again from the start when its ETag changed' },
    { name: 'retry-failed', type: 'boolean', default: false, description: 'try objects recorded as failed again' },
    { name: 'partitions', type: 'number', default: 6, min: 1, max: 10000, unit: 'partitions', description: 'partitions of the topic when created here' },
    ...workerOptionsFor('ship'),
  ],
  notes: 'Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY), else the AWS SDK chain.\nLines and progress go out in one Kafka transaction: after kill -9 and restart each line is in the topic once.',
  async run(opts) {
    const log = createLogger({ level: opts['log-level'] as 'info', name: 'weblog.ship' });
    const topic = validateTopic(String(opts.topic), '--topic');
    const progressTopic = validateTopic(String(opts['progress-topic']), '--progress-topic');
    const key = String(opts.key);
    if (!['none', 'source', 'ip'].includes(key)) throw new WeblogError('CONFIG_INVALID', `--key: expected none, source or ip, got "${key}"`);
    const source = openSource(opts);
    const kafka = createKafka({ brokers: brokersOf(opts), logger: log });
    await ensureTopic(kafka, topic, { partitions: Number(opts.partitions) });
    await ensureTopic(kafka, progressTopic, { partitions: 1, compacted: true });
    const replicas = Number(opts.replicas);
    const index = Number(opts['replica-index']);
    const sink = new KafkaShipSink(kafka, { progressTopic, transactionalId: `weblog-ship-${progressTopic}-${index}-of-${replicas}` });
    const registry = new Registry();
    const shipper = new Shipper(
      source,
      sink,
      {
        topic,
        key: key as 'none',
        batchLines: Number(opts['batch-lines']),
        maxLineBytes: Number(opts['max-line-bytes']),
        replicaIndex: index,
        replicas,
        reshipChanged: opts['reship-changed'] === true,
        retryFailed: opts['retry-failed'] === true,
        follow: opts.follow === true,
        pollIntervalMs: Number(opts['poll-interval-ms']),
      },
      log,
      registry,
    );
    const m = shipper.metrics;
    const rate = rateMeter(() => m.lines.total());
    const worker = await startWorker({
      name: 'weblog ship',
      log,
      registry,
      metricsPort: opts.metrics ? Number(opts['metrics-port']) : undefined,
      shutdownTimeoutMs: Number(opts['shutdown-timeout-ms']),
      progress: () => `${m.lines.total().toLocaleString('en-US')} lines, ${m.objects.total()} of ${m.objects.total() + (m.pending.get() ?? 0)} objects done, ${formatRate(rate())} lines/s, ${m.failures.total()} failed`,
      drain: async () => {
        await shipper.stop();
        await sink.close();
      },
      abort: () => sink.close(),
    });
    log.info('shipping', { source: source.describe(), topic, follow: opts.follow === true, replica: `${index}/${replicas}` });
    let error: unknown;
    await shipper.run().catch((err: unknown) => (error = err));
    await worker.stop();
    if (error) throw error; // no "done" line before the error: the run did not finish
    log.info('done', { objects: m.objects.total(), lines: m.lines.total(), failures: m.failures.total() });
    return m.failures.total() > 0 || worker.aborted ? 1 : 0;
  },
};
