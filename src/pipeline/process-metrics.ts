/** The processor's Prometheus metrics. */
import type { Registry } from '../observe/metrics.js';

export interface ProcessorMetrics {
  consumed: ReturnType<Registry['counter']>;
  inserted: ReturnType<Registry['counter']>;
  rejected: ReturnType<Registry['counter']>;
  skipped: ReturnType<Registry['counter']>;
  retries: ReturnType<Registry['counter']>;
  insertSeconds: ReturnType<Registry['histogram']>;
  batchRows: ReturnType<Registry['histogram']>;
  lag: ReturnType<Registry['gauge']>;
  freshness: ReturnType<Registry['histogram']>;
  waiting: ReturnType<Registry['gauge']>;
}

export function processorMetrics(registry: Registry): ProcessorMetrics {
  return {
    consumed: registry.counter('weblog_lines_consumed_total', 'Log lines received from the transport'),
    inserted: registry.counter('weblog_rows_inserted_total', 'Rows inserted into ClickHouse access_log'),
    rejected: registry.counter('weblog_lines_rejected_total', 'Lines rejected, by reason'),
    skipped: registry.counter('weblog_lines_skipped_total', 'Redelivered lines skipped because ClickHouse already holds them'),
    retries: registry.counter('weblog_insert_retries_total', 'Retries of INSERTs after transient errors'),
    insertSeconds: registry.histogram('weblog_insert_duration_seconds', 'Duration of one INSERT', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    batchRows: registry.histogram('weblog_batch_rows', 'Lines per transport batch', [1, 10, 100, 1000, 5000, 10000, 50000, 100000]),
    lag: registry.gauge('weblog_consumer_lag', 'Messages behind the end of the partition'),
    freshness: registry.histogram('weblog_freshness_seconds', 'Produce time to row stored', [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]),
    waiting: registry.gauge('weblog_clickhouse_waiting', 'Writes waiting for ClickHouse (1: retrying; reason disk_full or unavailable)'),
  };
}
