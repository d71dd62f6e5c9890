/** The processor's Prometheus metrics. */
import type { Registry } from '../observe/metrics.js';
import { writerMetrics, type WriterMetrics } from '../sink/writer.js';

/** The processor's own metrics, and its writer's. */
export interface ProcessorMetrics extends WriterMetrics {
  consumed: ReturnType<Registry['counter']>;
  skipped: ReturnType<Registry['counter']>;
  batchRows: ReturnType<Registry['histogram']>;
  lag: ReturnType<Registry['gauge']>;
  freshness: ReturnType<Registry['histogram']>;
  /** Sampled from the consumer (process-job). */
  kafkaSilent: ReturnType<Registry['gauge']>;
}

export function processorMetrics(registry: Registry): ProcessorMetrics {
  return {
    ...writerMetrics(registry),
    consumed: registry.counter('weblog_lines_consumed_total', 'Log lines received from the transport'),
    skipped: registry.counter('weblog_lines_skipped_total', 'Redelivered lines skipped because ClickHouse already holds them'),
    batchRows: registry.histogram('weblog_batch_rows', 'Lines per transport batch', [1, 10, 100, 1000, 5000, 10000, 50000, 100000]),
    lag: registry.gauge('weblog_consumer_lag', 'Messages behind the end of the partition'),
    freshness: registry.histogram(
      'weblog_freshness_seconds',
      'Produce time to stored, of the oldest line of each batch',
      [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    ),
    kafkaSilent: registry.gauge(
      'weblog_kafka_silent_seconds',
      'Seconds since the Kafka brokers last answered the consumer (a hung or unreachable broker grows it)',
    ),
  };
}
