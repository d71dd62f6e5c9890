/** `runProcess`: a processor replica, Kafka -> ClickHouse, assembled and closed here. */
import { describeError } from '../errors.js';
import { Registry } from '../observe/metrics.js';
import { rateMeter } from '../observe/status-line.js';
import { Processor, type ProcessorOptions } from '../pipeline/process.js';
import { migrationCluster } from '../schema/cluster.js';
import { migrate } from '../schema/migrate.js';
import { openClickHouse, type ClickHouseConfig } from '../sink/clickhouse/open.js';
import { KafkaTransport, type KafkaTransportConfig } from '../transport/kafka-transport.js';
import { Closers } from './closers.js';
import type { WorkerConfig } from './ship-job.js';
import { startup } from './startup.js';
import { formatRate, startWorker } from './worker.js';

export interface ProcessJobConfig {
  kafka: KafkaTransportConfig;
  clickhouse: ClickHouseConfig;
  processor: Omit<ProcessorOptions, 'deadLetterTopic' | 'dialect'>;
  worker: WorkerConfig;
}

export interface ProcessSummary {
  consumed: number;
  inserted: number;
  rejected: number;
  skipped: number;
  /** The permanent error that stopped the replica, if one did. */
  failed: unknown;
  aborted: boolean;
}

/** A processor replica until a signal or a permanent error. */
export async function runProcess(cfg: ProcessJobConfig): Promise<ProcessSummary> {
  const { log } = cfg.worker;
  const closers = new Closers();
  let processor: Processor;
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  let failed: unknown;
  let consumer: ReturnType<KafkaTransport['consumer']>;
  let transport: KafkaTransport;
  try {
    // Everything that needs no server first: a wrong --format fails now, not after a wait for Kafka.
    const stages = await Processor.stages(cfg.processor);
    transport = closers.add('kafka', new KafkaTransport(cfg.kafka));
    const registry = new Registry();
    const start = closers.add('start-up', await startup(log, registry, cfg.worker.metricsPort));
    const ch = closers.add('clickhouse', await start.until('ClickHouse', () => openClickHouse(cfg.clickhouse)));
    // On a cluster only `weblog migrate` applies DDL: workers check the schema is up to date.
    await start.until('ClickHouse', () => migrate(ch, { log: (m) => log.info(m), apply: !cfg.clickhouse.cluster, cluster: migrationCluster(cfg.clickhouse) }));
    await start.until('Kafka', () => transport.prepare({ process: true }));
    start.done();
    const p = (processor = await Processor.create(
      ch,
      { ...cfg.processor, deadLetterTopic: transport.deadLetterTopic },
      { log, registry, dlq: transport.deadLetters() },
      stages,
    ));
    // Closed first: the batch in flight finishes (and commits) while ClickHouse is still open.
    const c = (consumer = closers.add('consumer', transport.consumer()));
    c.onAssignment((assigned) => {
      p.onAssignment();
      log.info('partitions assigned', { partitions: assigned.map((a) => a.partition).join(',') });
    });
    const m = processor.metrics;
    m.kafkaSilent.sample(() => c.silentSeconds());
    const rate = rateMeter(() => m.consumed.total());
    worker = await startWorker({
      name: 'weblog process',
      ...cfg.worker,
      metrics: start.metrics,
      registry,
      healthy: () => {
        const h = p.health();
        return h.ok ? c.health() : h;
      },
      progress: () =>
        `${m.consumed.total().toLocaleString('en-US')} lines, ${m.inserted.total().toLocaleString('en-US')} inserted, ${m.rejected.total()} rejected, ${formatRate(rate())} lines/s`,
      drain: () => closers.close(),
      abort: () => closers.destroy(),
    });
    const w = worker;
    consumer.onFatal((err) => {
      failed = err;
      log.error('stopping: permanent error', { error: describeError(err) });
      void w.stop();
    });
    log.info('processing', { topic: transport.topic, clickhouse: ch.describe(), dialect: ch.dialect });
    await consumer.start((batch, ctl) => p.handleBatch(batch, ctl));
  } catch (err) {
    if (worker)
      await worker.stop(); // drains what was opened, and releases the signals
    else await closers.destroy(err).catch(() => undefined);
    throw err;
  }
  await worker.stopped;
  const m = processor.metrics;
  const summary = {
    consumed: m.consumed.total(),
    inserted: m.inserted.total(),
    rejected: m.rejected.total(),
    skipped: m.skipped.total(),
    failed,
    aborted: worker.aborted,
  };
  log.info('stopped', { consumed: summary.consumed, inserted: summary.inserted, rejected: summary.rejected, skipped: summary.skipped });
  return summary;
}
