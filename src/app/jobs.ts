/**
 * The three jobs of weblog, assembled from typed configs: `runShip` (a
 * shipper replica: source -> Kafka), `runProcess` (a processor replica:
 * Kafka -> ClickHouse) and `runAll` (both in one process, on Kafka or on the
 * in-process queue, then the headline reports). The CLI maps its options onto
 * these configs and prints what they return; tests and benchmarks call them
 * directly. Each job closes everything it opened, in reverse order, however
 * it ends (see closers.ts).
 */
export { runShip, type ShipJobConfig, type ShipSummary, type WorkerConfig } from './ship-job.js';
export { runProcess, type ProcessJobConfig, type ProcessSummary } from './process-job.js';
export { runAll, type RunJobConfig, type RunSummary } from './run-job.js';
