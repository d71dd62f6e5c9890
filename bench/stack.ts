/** Benchmarks run against the local stack (test/stack) unless endpoints come from the environment. */
import { localEndpoints, type Endpoints } from '../test/stack/config.js';
import { up } from '../test/stack/stack.js';

export async function benchEndpoints(): Promise<Endpoints> {
  if (process.env.KAFKA_BROKERS && process.env.CLICKHOUSE_URL) {
    const e = localEndpoints();
    return { ...e, kafkaBrokers: process.env.KAFKA_BROKERS.split(','), clickhouseUrl: process.env.CLICKHOUSE_URL };
  }
  await up();
  return localEndpoints();
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}
