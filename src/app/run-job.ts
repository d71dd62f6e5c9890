/**
 * `runAll`: migrations, shipper and processor in one process, on Kafka or
 * on the in-process queue; then what `weblog run` shows (reports, the HTML
 * dashboard, the live one). The data path (`runPipeline`) knows nothing of
 * reports: they are rendered here, after it ended.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describeError } from '../errors.js';
import { Registry } from '../observe/metrics.js';
import { rateMeter } from '../observe/status-line.js';
import { guessFormat } from '../parse/guess.js';
import { startDashboardServer, type DashboardServer, type ServeOptions } from '../dashboard/server.js';
import { Processor, processorDefaults, type LineStages, type ProcessorOptions } from '../pipeline/process.js';
import { Shipper, type FailedObject, type ShipOptions } from '../pipeline/ship.js';
import { migrationCluster } from '../schema/cluster.js';
import { migrate, recreateDatabase } from '../schema/migrate.js';
import { ClickHouseAccessLogStore } from '../sink/access-log.js';
import { openClickHouse, type ClickHouseConfig } from '../sink/clickhouse/open.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';
import type { ObjectSource } from '../source/objects.js';
import { openSource, type SourceConfig } from '../source/open.js';
import { kafkaDefaults, KafkaTransport, type KafkaTransportConfig } from '../transport/kafka-transport.js';
import { MemoryTransport } from '../transport/memory.js';
import type { Transport } from '../transport/types.js';
import { Closers } from './closers.js';
import { presentRun } from './present.js';
import { checkQueueState, runStateFile } from './run-state.js';
import { objectsDone, type WorkerConfig } from './ship-job.js';
import { formatRate, startWorker } from './worker.js';

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
  const closers = new Closers();
  try {
    // Everything that needs no server first: a wrong --format or --source fails before anything is created.
    const stages = await Processor.stages(cfg.processor);
    const source = closers.add('source', openSource(cfg.source));
    const ch = closers.add('clickhouse', await openClickHouse(cfg.clickhouse));
    if (cfg.reset) {
      log.warn('--reset: dropping the database and the run state', { database: ch.database, clickhouse: ch.describe() });
      await recreateDatabase(ch);
      rmSync(runStateFile(cfg.clickhouse), { force: true });
    }
    // On a cluster only `weblog migrate` applies DDL: workers check the schema is up to date.
    await migrate(ch, { log: (m) => log.info(m), apply: !cfg.clickhouse.cluster, cluster: migrationCluster(cfg.clickhouse) });
    let dashboard: DashboardServer | undefined;
    if (cfg.serve) {
      dashboard = closers.add('dashboard', await startDashboardServer(ch, { ...cfg.serve, log }));
      log.info('dashboard', { url: dashboard.url });
      cfg.serve.onListening?.(dashboard.url);
    }
    const summary = await runPipeline(cfg, ch, source, stages);
    await presentRun(ch, cfg, summary);
    if (dashboard && !cfg.ship.follow && cfg.serve?.until) {
      log.info('done; the dashboard stays up until stopped (Ctrl-C)', { url: dashboard.url, rows_inserted: summary.rowsInserted, rejected: summary.rejected });
      await cfg.serve.until;
    }
    await closers.close();
    return summary;
  } catch (err) {
    await closers.destroy(err).catch(() => undefined);
    throw err;
  }
}

/** The data path of `weblog run`: ship and process until everything shipped is stored (or, with follow, until stopped). */
async function runPipeline(cfg: RunJobConfig, ch: ClickHouse, source: ObjectSource, stages: LineStages): Promise<RunSummary> {
  const { log } = cfg.worker;
  const closers = new Closers();
  const store = new ClickHouseAccessLogStore(ch);
  let transport: Transport;
  let memory: MemoryTransport | undefined;
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  let failure: unknown;
  let processor: Processor | undefined;
  let shipper: Shipper | undefined;
  try {
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
    const t = closers.add('transport', transport);
    await t.prepare({ ship: true, process: true });
    const registry = new Registry();
    const p = (processor = await Processor.create(
      ch,
      { ...cfg.processor, deadLetterTopic: t.deadLetterTopic, logCaughtUp: cfg.kafka !== undefined },
      { log, registry, dlq: t.deadLetters() },
      stages,
    ));
    const sink = t.shipSink(); // closed by the transport
    const consumer = closers.add('consumer', t.consumer());
    consumer.onAssignment(() => p.onAssignment());
    const s = (shipper = new Shipper(source, sink, { ...cfg.ship, topic: t.topic }, log, registry));
    closers.defer('shipper', () => s.stop()); // stops first: nothing new is queued while the consumer drains
    const pm = p.metrics;
    const sm = s.metrics;
    const rate = rateMeter(() => pm.consumed.total());
    const w = (worker = await startWorker({
      name: 'weblog run',
      ...cfg.worker,
      registry,
      healthy: () => {
        const h = p.health();
        return h.ok && consumer.health ? consumer.health() : h;
      },
      progress: () =>
        `shipped ${sm.lines.total().toLocaleString('en-US')} lines (${objectsDone(sm)}), stored ${pm.inserted.total().toLocaleString('en-US')} rows + ${pm.rejected.total()} rejects, ${formatRate(rate())} lines/s`,
      drain: () => closers.close(),
      abort: () => closers.destroy(),
    }));
    consumer.onFatal((err) => {
      failure ??= err;
      log.error('stopping: permanent error', { error: describeError(err) });
      memory?.end(); // a shipper waiting for queue space sees the end
      void s.stop();
    });
    log.info('running', { source: source.describe(), transport: t.describe(), clickhouse: ch.describe(), follow: cfg.ship.follow === true });
    await consumer.start((b, c) => p.handleBatch(b, c));
    await s.run();
    if (!cfg.ship.follow) {
      await t.consumedAll(() => failure !== undefined);
      await w.stop();
    } else await w.stopped;
  } catch (err) {
    failure ??= err;
  }
  if (worker) await worker.stop();
  else await closers.destroy(failure).catch(() => undefined);
  if (failure !== undefined || !processor || !shipper) throw failure;
  const pm = processor.metrics;
  const sm = shipper.metrics;
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
    aborted: worker?.aborted ?? false,
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
    const hint = guessFormat(processor.rejectSamples, cfg.processor.format ?? processorDefaults.format);
    log.warn(`nearly every line was rejected (${rejected.toLocaleString('en-US')} of ${(rows + rejected).toLocaleString('en-US')}): check --format${hint}`);
  }
  if (summary.linesShipped === 0 && summary.skippedDuplicates === 0 && summary.failedObjects.length === 0) summary.upToDate = await store.totals();
  return summary;
}
