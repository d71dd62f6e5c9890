/**
 * The three jobs of weblog, assembled from typed configs: `runShip` (a
 * shipper replica: source -> Kafka), `runProcess` (a processor replica:
 * Kafka -> ClickHouse) and `runAll` (both in one process, on Kafka or on the
 * in-process queue, then the headline reports). The CLI maps its options onto
 * these configs and prints what they return; tests and benchmarks call them
 * directly.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describeError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { Registry } from '../observe/metrics.js';
import { rateMeter } from '../observe/status-line.js';
import { guessFormat } from '../parse/guess.js';
import { writeStaticDashboard } from '../dashboard/data.js';
import { startDashboardServer, type DashboardServer, type ServeOptions } from '../dashboard/server.js';
import { headlineReports } from '../report/headline.js';
import { checkReportable } from '../report/reports.js';
import { migrationCluster } from '../schema/cluster.js';
import { migrate } from '../schema/migrate.js';
import { ClickHouseAccessLogStore } from '../sink/access-log.js';
import { openClickHouse, type ClickHouseConfig } from '../sink/clickhouse/open.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';
import { openSource, type SourceConfig } from '../source/open.js';
import { kafkaDefaults, KafkaTransport, type KafkaTransportConfig } from '../transport/kafka-transport.js';
import { MemoryTransport } from '../transport/memory.js';
import type { Transport } from '../transport/types.js';
import { Processor, type ProcessorOptions } from './process.js';
import { checkQueueState, runStateFile } from './run-state.js';
import { Shipper, type FailedObject, type ShipMetrics, type ShipOptions } from './ship.js';
import { startup } from './startup.js';
import { formatRate, startWorker } from './worker.js';

/** "2 of 5 objects done": finished, of finished and still listed. */
const objectsDone = (m: ShipMetrics) => `${m.objects.total()} of ${m.objects.total() + (m.pending.get() ?? 0)} objects done`;

export interface WorkerConfig {
  log: Logger;
  /** /metrics and /healthz on 127.0.0.1; 0: any free port; undefined: no endpoint. */
  metricsPort?: number | undefined;
  /** Longest graceful stop, ms (default 30,000). */
  shutdownTimeoutMs?: number | undefined;
}

export interface ShipJobConfig {
  source: SourceConfig;
  kafka: KafkaTransportConfig;
  ship: Omit<ShipOptions, 'topic'>;
  worker: WorkerConfig;
}

export interface ShipSummary {
  objects: number;
  lines: number;
  failures: number;
  /** Objects that could not be read and are still listed (this run's or earlier runs'), with why. */
  failedObjects: readonly FailedObject[];
  /** The stop had to abort (the drain did not finish in time). */
  aborted: boolean;
}

/** A shipper replica until the source is shipped (or, with follow, until a signal). Throws what stops it. */
export async function runShip(cfg: ShipJobConfig): Promise<ShipSummary> {
  const { log } = cfg.worker;
  const source = openSource(cfg.source);
  const transport = new KafkaTransport(cfg.kafka);
  const registry = new Registry();
  const start = await startup(log, registry, cfg.worker.metricsPort);
  try {
    await start.until('Kafka', () => transport.prepare({ ship: true }));
    start.done();
  } catch (err) {
    await start.close();
    await transport.close().catch(() => undefined);
    throw err;
  }
  const sink = transport.shipSink();
  const shipper = new Shipper(source, sink, { ...cfg.ship, topic: transport.topic }, log, registry);
  const m = shipper.metrics;
  const rate = rateMeter(() => m.lines.total());
  const worker = await startWorker({
    name: 'weblog ship',
    ...cfg.worker,
    metrics: start.metrics,
    registry,
    progress: () => `${m.lines.total().toLocaleString('en-US')} lines, ${objectsDone(m)}, ${formatRate(rate())} lines/s, ${m.failures.total()} failed`,
    drain: async () => {
      await shipper.stop();
      await sink.close();
    },
    abort: () => sink.close(),
  });
  log.info('shipping', {
    source: source.describe(),
    topic: transport.topic,
    follow: cfg.ship.follow === true,
    replica: `${cfg.ship.replicaIndex ?? 0}/${cfg.ship.replicas ?? 1}`,
  });
  let error: unknown;
  await shipper.run().catch((err: unknown) => (error = err));
  await worker.stop();
  await transport.close();
  if (error) throw error; // no "done" line before the error: the run did not finish
  const summary = {
    objects: m.objects.total(),
    lines: m.lines.total(),
    failures: m.failures.total(),
    failedObjects: shipper.failedObjects(),
    aborted: worker.aborted,
  };
  log.info('done', { objects: summary.objects, lines: summary.lines, failures: summary.failures, failed_objects: summary.failedObjects.length });
  return summary;
}

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
  const transport = new KafkaTransport(cfg.kafka);
  const registry = new Registry();
  const start = await startup(log, registry, cfg.worker.metricsPort);
  let ch: ClickHouse | undefined;
  try {
    const opened = (ch = await start.until('ClickHouse', () => openClickHouse(cfg.clickhouse)));
    // On a cluster only `weblog migrate` applies DDL: workers check the schema is up to date.
    await start.until('ClickHouse', () =>
      migrate(opened, { log: (m) => log.info(m), apply: !cfg.clickhouse.cluster, cluster: migrationCluster(cfg.clickhouse) }),
    );
    await start.until('Kafka', () => transport.prepare({ process: true }));
    start.done();
  } catch (err) {
    await start.close();
    await ch?.close().catch(() => undefined);
    await transport.close().catch(() => undefined);
    throw err;
  }
  const processor = await Processor.create(
    ch,
    { ...cfg.processor, deadLetterTopic: transport.deadLetterTopic },
    { log, registry, dlq: transport.deadLetters() },
  );
  const consumer = transport.consumer();
  consumer.onAssignment((assigned) => {
    processor.onAssignment();
    log.info('partitions assigned', { partitions: assigned.map((a) => a.partition).join(',') });
  });
  const m = processor.metrics;
  const rate = rateMeter(() => m.consumed.total());
  const worker = await startWorker({
    name: 'weblog process',
    ...cfg.worker,
    metrics: start.metrics,
    registry,
    healthy: () => {
      const p = processor.health();
      return p.ok ? consumer.health() : p;
    },
    progress: () =>
      `${m.consumed.total().toLocaleString('en-US')} lines, ${m.inserted.total().toLocaleString('en-US')} inserted, ${m.rejected.total()} rejected, ${formatRate(rate())} lines/s`,
    drain: async () => {
      await consumer.close();
      await transport.close();
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
  log.info('processing', { topic: transport.topic, clickhouse: ch.describe(), dialect: ch.dialect });
  await consumer.start((batch, ctl) => processor.handleBatch(batch, ctl));
  await worker.stopped;
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

export interface RunJobConfig {
  source: SourceConfig;
  /** Kafka; undefined: the in-process queue, with its state beside the embedded data. */
  kafka?: KafkaTransportConfig | undefined;
  clickhouse: ClickHouseConfig;
  processor: Omit<ProcessorOptions, 'deadLetterTopic' | 'dialect' | 'logCaughtUp'>;
  ship: Pick<ShipOptions, 'follow' | 'pollIntervalMs' | 'maxLineBytes' | 'retryFailed' | 'skipFailed'>;
  /** Drop the database and the run state first (in-process queue only). */
  reset?: boolean;
  /** Render the headline reports at the end. */
  reports?: boolean;
  /** Write the self-contained HTML dashboard here at the end. */
  html?: string | undefined;
  /** Serve the live dashboard while running; without follow, until `until` resolves. */
  serve?: (ServeOptions & { onListening?: (url: string) => void; until?: Promise<unknown> }) | undefined;
  worker: WorkerConfig;
}

export interface RunSummary {
  linesShipped: number;
  objects: number;
  /** Objects that could not be read and are still listed (this run's or earlier runs'), with why. */
  failedObjects: readonly FailedObject[];
  rowsInserted: number;
  rejected: number;
  skippedDuplicates: number;
  /** Set when nothing was new: what the database holds. */
  upToDate?: { rows: number; rejects: number } | undefined;
  /** ≥ 90 % of ≥ 10 lines rejected: the format is likely wrong; `formatHint` says which fits. */
  mostlyRejected: boolean;
  /** The headline reports as text (or why there are none). */
  reports?: string | undefined;
  /** Absolute path of the HTML dashboard written at the end. */
  dashboardFile?: string | undefined;
  /** Where the data is. */
  clickhouse: string;
  embedded: boolean;
  aborted: boolean;
}

/** Migrations, shipper and processor in one process; ends when everything shipped is stored (unless follow). */
export async function runAll(cfg: RunJobConfig): Promise<RunSummary> {
  const { log } = cfg.worker;
  const source = openSource(cfg.source);
  const ch = await openClickHouse(cfg.clickhouse);
  if (cfg.reset) {
    log.warn('--reset: dropping the database and the run state', { database: ch.database, clickhouse: ch.describe() });
    await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
    await ch.exec(`CREATE DATABASE ${ch.database}`);
    rmSync(runStateFile(cfg.clickhouse), { force: true });
  }
  // On a cluster only `weblog migrate` applies DDL: workers check the schema is up to date.
  await migrate(ch, { log: (m) => log.info(m), apply: !cfg.clickhouse.cluster, cluster: migrationCluster(cfg.clickhouse) });
  let dashboard: DashboardServer | undefined;
  if (cfg.serve) {
    dashboard = await startDashboardServer(ch, { ...cfg.serve, log });
    log.info('dashboard', { url: dashboard.url });
    cfg.serve.onListening?.(dashboard.url);
  }
  const store = new ClickHouseAccessLogStore(ch);
  let transport: Transport;
  let memory: MemoryTransport | undefined;
  if (cfg.kafka) {
    const progressTopic = cfg.kafka.progressTopic;
    transport = new KafkaTransport({
      ...cfg.kafka,
      log,
      transactionalId: `weblog-run-${progressTopic ?? kafkaDefaults.progressTopic}`,
      consumer: { maxWaitTimeMs: 200, ...cfg.kafka.consumer },
    });
  } else {
    mkdirSync(path.dirname(runStateFile(cfg.clickhouse)), { recursive: true });
    memory = new MemoryTransport({ stateFile: runStateFile(cfg.clickhouse) });
    checkQueueState(memory, await store.storedFromTopic(memory.topic), `database ${ch.database}`);
    if (!memory.stateLoaded) memory.persist();
    transport = memory;
  }
  await transport.prepare({ ship: true, process: true });
  const registry = new Registry();
  const processor = await Processor.create(
    ch,
    { ...cfg.processor, deadLetterTopic: transport.deadLetterTopic, logCaughtUp: cfg.kafka !== undefined },
    { log, registry, dlq: transport.deadLetters() },
  );
  const sink = transport.shipSink();
  const consumer = transport.consumer();
  consumer.onAssignment(() => processor.onAssignment());
  const shipper = new Shipper(source, sink, { ...cfg.ship, topic: transport.topic }, log, registry);
  const pm = processor.metrics;
  const sm = shipper.metrics;
  const rate = rateMeter(() => pm.consumed.total());
  const worker = await startWorker({
    name: 'weblog run',
    ...cfg.worker,
    registry,
    healthy: () => {
      const p = processor.health();
      return p.ok && consumer.health ? consumer.health() : p;
    },
    progress: () =>
      `shipped ${sm.lines.total().toLocaleString('en-US')} lines (${objectsDone(sm)}), stored ${pm.inserted.total().toLocaleString('en-US')} rows + ${pm.rejected.total()} rejects, ${formatRate(rate())} lines/s`,
    drain: async () => {
      await shipper.stop();
      await consumer.close();
      await sink.close();
      await transport.close();
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
    memory?.end(); // a shipper waiting for queue space sees the end
    void shipper.stop();
  });
  log.info('running', { source: source.describe(), transport: transport.describe(), clickhouse: ch.describe(), follow: cfg.ship.follow === true });
  await consumer.start((b, c) => processor.handleBatch(b, c));
  try {
    await shipper.run();
    if (!cfg.ship.follow) {
      await transport.consumedAll(() => failure !== undefined);
      await worker.stop();
    } else await worker.stopped;
  } catch (err) {
    failure ??= err;
    await worker.stop();
  }
  if (failure) {
    await dashboard?.close();
    await ch.close();
    throw failure;
  }
  const rows = pm.inserted.total();
  const rejected = pm.rejected.total();
  const summary: RunSummary = {
    linesShipped: sm.lines.total(),
    objects: sm.objects.total(),
    failedObjects: shipper.failedObjects(),
    rowsInserted: rows,
    rejected,
    skippedDuplicates: pm.skipped.total(),
    mostlyRejected: rejected >= 10 && rejected > 0.9 * (rows + rejected),
    clickhouse: ch.describe(),
    embedded: ch.kind === 'embedded',
    aborted: worker.aborted,
  };
  log.info('done', {
    lines_shipped: summary.linesShipped,
    objects: summary.objects,
    failed_objects: summary.failedObjects.length,
    rows_inserted: rows,
    rejected,
    skipped_duplicates: summary.skippedDuplicates,
  });
  if (summary.mostlyRejected) {
    const hint = guessFormat(processor.rejectSamples, cfg.processor.format ?? 'combined');
    log.warn(`nearly every line was rejected (${rejected.toLocaleString('en-US')} of ${(rows + rejected).toLocaleString('en-US')}): check --format${hint}`);
  }
  if (summary.linesShipped === 0 && summary.skippedDuplicates === 0 && summary.failedObjects.length === 0) summary.upToDate = await store.totals();
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
  if (dashboard && !cfg.ship.follow && cfg.serve?.until) {
    log.info('done; the dashboard stays up until stopped (Ctrl-C)', { url: dashboard.url, rows_inserted: rows, rejected });
    await cfg.serve.until;
  }
  await dashboard?.close();
  await ch.close();
  return summary;
}
