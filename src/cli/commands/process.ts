/** `weblog process`: a stream-processor replica (Kafka consumer group -> ClickHouse). */
import { runProcess } from '../../app/jobs.js';
import { processorDefaults } from '../../pipeline/process.js';
import { writerDefaults } from '../../sink/writer.js';
import { consumerDefaults } from '../../transport/kafka-consumer.js';
import { kafkaDefaults } from '../../transport/kafka-transport.js';
import {
  clickhouseConfig,
  clickhouseOptions,
  clusterOptions,
  enrichConfig,
  enrichOptions,
  formatOption,
  kafkaConfig,
  kafkaOptions,
  partitionsOption,
  siteOption,
  workerConfig,
  workerOptionsFor,
} from '../option-groups.js';
import { defineCommand } from '../options.js';

export const processCommand = defineCommand({
  name: 'process',
  summary: 'Run a stream-processor replica: Kafka -> parse/enrich -> ClickHouse, exactly once.',
  usage: 'weblog process --brokers HOST:PORT [--topic weblog.raw] [--group weblog] [--clickhouse URL | --embedded DIR]',
  options: [
    ...kafkaOptions,
    { name: 'group', type: 'string', default: kafkaDefaults.group, arg: 'ID', description: 'consumer group; add replicas with the same group to scale out' },
    { name: 'dead-letter-topic', type: 'string', default: kafkaDefaults.deadLetterTopic, arg: 'NAME', description: "topic for rejected lines ('' to disable)" },
    ...clickhouseOptions,
    ...clusterOptions,
    formatOption,
    ...enrichOptions,
    siteOption,
    { name: 'max-insert-rows', type: 'number', default: writerDefaults.maxInsertRows, min: 1, unit: 'rows', description: 'largest INSERT' },
    {
      name: 'insert-concurrency',
      type: 'number',
      default: writerDefaults.insertConcurrency,
      min: 1,
      max: 64,
      unit: 'INSERTs',
      description: 'INSERTs in flight at once',
    },
    {
      name: 'partitions-concurrently',
      type: 'number',
      default: consumerDefaults.partitionsConcurrently,
      min: 1,
      max: 1024,
      unit: 'partitions',
      description: 'partitions processed at once by this replica',
    },
    {
      name: 'max-batch-bytes',
      type: 'number',
      default: consumerDefaults.maxBytesPerPartition,
      min: 1024,
      unit: 'bytes',
      description: 'largest fetch per partition; a batch gathers fetches',
    },
    {
      name: 'max-batch-lines',
      type: 'number',
      default: consumerDefaults.maxBatchLines,
      min: 1,
      unit: 'lines',
      description: "a partition's fetches are gathered into one batch (one INSERT) up to this many lines",
    },
    {
      name: 'flush-interval-ms',
      type: 'number',
      default: consumerDefaults.maxWaitTimeMs,
      unit: 'ms',
      description: 'longest a line waits in a batch that is not full (every INSERT costs the server CPU)',
    },
    {
      name: 'max-line-bytes',
      type: 'number',
      default: processorDefaults.maxLineBytes,
      min: 256,
      max: 268435456,
      unit: 'bytes',
      description: 'longer lines (from any producer) become line_too_long rejects holding their first bytes',
    },
    {
      name: 'session-timeout-ms',
      type: 'number',
      default: consumerDefaults.sessionTimeoutMs,
      min: 1000,
      unit: 'ms',
      description: 'Kafka group session timeout: how soon partitions of a dead replica move',
    },
    { name: 'create-topics', type: 'boolean', default: kafkaDefaults.createTopics, description: 'create the topics if missing' },
    partitionsOption,
    ...workerOptionsFor('process'),
  ],
  notes: 'Applies the ClickHouse migrations first (idempotent). SIGTERM/SIGINT drain; a second signal exits at once.',
  async run(opts) {
    const worker = workerConfig(opts, 'weblog.process');
    const summary = await runProcess({
      kafka: kafkaConfig(opts, worker.log),
      clickhouse: clickhouseConfig(opts),
      processor: {
        format: opts.format,
        enrich: enrichConfig(opts),
        site: opts.site as string | undefined,
        maxInsertRows: opts['max-insert-rows'],
        insertConcurrency: opts['insert-concurrency'],
        maxLineBytes: opts['max-line-bytes'],
      },
      worker,
    });
    return summary.failed === undefined && !summary.aborted ? 0 : 1;
  },
});
