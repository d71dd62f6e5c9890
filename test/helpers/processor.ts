/** Runs the stream processor in this process or as a `weblog process` child, against real servers. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';
import { createLogger, silentLogger } from '../../src/observe/log.js';
import { Registry } from '../../src/observe/metrics.js';
import { Processor, type ProcessorOptions } from '../../src/pipeline/process.js';
import type { ClickHouse } from '../../src/sink/clickhouse/types.js';
import { createKafka } from '../../src/transport/kafka.js';
import { KafkaLogConsumer } from '../../src/transport/kafka-consumer.js';
import { KafkaLogProducer } from '../../src/transport/kafka-producers.js';
import { repoRoot } from './datasets.js';

export interface RunningProcessor {
  processor: Processor;
  consumer: KafkaLogConsumer;
  stop(): Promise<void>;
}

export async function startProcessor(ch: ClickHouse, topic: string, group: string, opts: ProcessorOptions = {}): Promise<RunningProcessor> {
  const kafka = createKafka({ brokers: inject('endpoints').kafkaBrokers });
  const dlq = opts.deadLetterTopic ? new KafkaLogProducer(kafka) : undefined;
  const processor = await Processor.create(
    ch,
    { enrich: {}, ...opts, deadLetterTopic: opts.deadLetterTopic ?? '' },
    { log: process.env.WEBLOG_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger, registry: new Registry(), dlq },
  );
  const consumer = new KafkaLogConsumer(kafka, { topic, groupId: group, maxWaitTimeMs: 100, minBytes: 1 });
  consumer.onAssignment(() => processor.onAssignment());
  await consumer.start((b, c) => processor.handleBatch(b, c));
  return {
    processor,
    consumer,
    stop: async () => {
      await consumer.close();
      await dlq?.close();
    },
  };
}

/** `weblog process` as a child process (for kill -9 and signal tests). */
export function spawnProcessor(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(
    process.execPath,
    [path.join(repoRoot, 'bin', 'weblog.js'), 'process', '--brokers', inject('endpoints').kafkaBrokers.join(','), '--metrics-port', '0', ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
}

export function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  return exited;
}

/** `weblog process` flags for tests: the test's topic, group and database, no dead-letter topic, no topic creation, fast failover. */
export function processArgs(topic: string, group: string, ch: { database: string }, url: string, extra: string[] = []): string[] {
  return [
    '--topic',
    topic,
    '--group',
    group,
    '--clickhouse',
    url,
    '--database',
    ch.database,
    '--dead-letter-topic',
    '',
    '--no-create-topics',
    '--session-timeout-ms',
    '6000',
    ...extra,
  ];
}
