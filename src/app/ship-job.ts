/** `runShip`: a shipper replica, source -> Kafka, assembled and closed here. */
import type { Logger } from '../observe/log.js';
import { Registry } from '../observe/metrics.js';
import { rateMeter } from '../observe/status-line.js';
import type { ShipMetrics } from '../pipeline/ship-metrics.js';
import { Shipper, type FailedObject, type ShipOptions } from '../pipeline/ship.js';
import { shardOf } from '../pipeline/shard.js';
import { openSource, type SourceConfig } from '../source/open.js';
import { parseQueueUri, SqsQueue, type NotificationQueue } from '../source/sqs.js';
import { parseKafkaNotificationsUri } from '../transport/kafka-notifications.js';
import { KafkaTransport, type KafkaTransportConfig } from '../transport/kafka-transport.js';
import { Closers } from './closers.js';
import { startup } from './startup.js';
import { formatRate, startWorker } from './worker.js';

export interface WorkerConfig {
  log: Logger;
  /** /metrics and /healthz on 127.0.0.1; 0: any free port; undefined: no endpoint. */
  metricsPort?: number | undefined;
  /** Longest graceful stop, ms (default 30,000). */
  shutdownTimeoutMs?: number | undefined;
  /** Aborting it stops the job as SIGTERM does. */
  stopSignal?: AbortSignal | undefined;
}

/** "2 of 5 objects done": finished, of finished and still listed. */
export const objectsDone = (m: ShipMetrics) => `${m.objects.total()} of ${m.objects.total() + (m.pending.get() ?? 0)} objects done`;

export interface ShipJobConfig {
  source: SourceConfig;
  /** sqs://QUEUE_URL or kafka://TOPIC: ship the objects S3 event notifications name, instead of listing. */
  notifications?: string | undefined;
  /** A shipper group: shippers share the objects by slots and take over a dead one's (instead of --replicas). */
  group?: { name: string; slots?: number | undefined; sessionTimeoutMs?: number | undefined } | undefined;
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
  const closers = new Closers();
  let shipper: Shipper;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  let source: ReturnType<typeof openSource>;
  let transport: KafkaTransport;
  let queue: NotificationQueue | undefined;
  try {
    source = closers.add('source', openSource(cfg.source));
    transport = closers.add('kafka', new KafkaTransport(cfg.kafka));
    const uri = cfg.notifications;
    queue =
      uri === undefined
        ? undefined
        : closers.add(
            'notifications',
            uri.startsWith('kafka://')
              ? transport.notificationQueue(parseKafkaNotificationsUri(uri), `${cfg.ship.replicaIndex ?? 0}-of-${cfg.ship.replicas ?? 1}`)
              : new SqsQueue({ ...parseQueueUri(uri), timeoutMs: cfg.source.timeoutMs }),
          );
    const registry = new Registry();
    const start = closers.add('start-up', await startup(log, registry, cfg.worker.metricsPort));
    await start.until('Kafka', () => transport.prepare({ ship: true }));
    const group = cfg.group ? transport.shipGroup({ ...cfg.group, group: `weblog-shippers.${cfg.group.name}` }, shardOf) : undefined; // closed by the transport
    if (group) await start.until('the shipper group', () => group.start());
    const sink = group ?? transport.shipSink(); // closed by the transport
    start.done();
    const s = (shipper = new Shipper(source, sink, { ...cfg.ship, topic: transport.topic }, log, registry, { queue, ownership: group }));
    closers.defer('shipper', () => s.stop());
    const m = shipper.metrics;
    const rate = rateMeter(() => m.lines.total());
    worker = await startWorker({
      name: 'weblog ship',
      ...cfg.worker,
      metrics: start.metrics,
      registry,
      progress: () => `${m.lines.total().toLocaleString('en-US')} lines, ${objectsDone(m)}, ${formatRate(rate())} lines/s, ${m.failures.total()} failed`,
      drain: () => closers.close(),
      abort: () => closers.destroy(),
    });
  } catch (err) {
    await closers.destroy(err).catch(() => undefined);
    throw err;
  }
  log.info('shipping', {
    source: source.describe(),
    topic: transport.topic,
    follow: cfg.ship.follow === true || cfg.notifications !== undefined,
    ...(cfg.notifications ? { notifications: queue?.describe() } : {}),
    ...(cfg.group ? { group: cfg.group.name } : { replica: `${cfg.ship.replicaIndex ?? 0}/${cfg.ship.replicas ?? 1}` }),
  });
  let error: unknown;
  await shipper.run().catch((err: unknown) => (error = err));
  await worker.stop();
  if (error) throw error; // no "done" line before the error: the run did not finish
  const m = shipper.metrics;
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
