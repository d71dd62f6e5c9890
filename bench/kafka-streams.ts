/**
 * A peer measured in the same run: a Kafka Streams app (the engine under
 * ksqlDB; bench/peers/kafka-streams, built with Maven on first use) that
 * splits messages into lines, parses each with one regular expression and a
 * java.time parse, and writes one JSON record per line to another topic, at
 * least once or exactly once (exactly_once_v2). Parse only: no enrichment,
 * no rejects, no database. Skipped with a message when Java or Maven is
 * missing or the build fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { cpuPerItem, cpuSnapshot, treeCpuSeconds, type CpuSnapshot } from './cpu.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'peers', 'kafka-streams');
const classpathFile = path.join(dir, 'target', 'classpath.txt');

/** The same expression as LineParse.java: which lines the app writes out. */
export const streamsLine = /^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) ([^ ?"]*)(\?[^ "]*)? (HTTP\/[0-9.]+)" (\d{3}) (\d+|-)(?: "([^"]*)" "([^"]*)")?/;

/** Builds the app once; returns why it cannot run, or undefined. */
export function buildKafkaStreams(): string | undefined {
  if (existsSync(classpathFile) && existsSync(path.join(dir, 'target', 'classes', 'weblog', 'peer', 'LineParse.class'))) return undefined;
  const r = spawnSync('mvn', ['-q', '-B', '-DskipTests', 'package', 'dependency:build-classpath', `-Dmdep.outputFile=${classpathFile}`], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 900_000,
  });
  if (r.error) return `Maven is not available (${r.error.message})`;
  if (r.status !== 0)
    return `the Maven build failed: ${(r.stdout + r.stderr)
      .split('\n')
      .filter((l) => l.includes('ERROR'))
      .slice(0, 3)
      .join(' ')}`;
  return undefined;
}

export interface StreamsResult {
  /** Lines per second between 10 % of the output and its end (the JVM warmed up). */
  steadyLinesPerSecond: number;
  /** CPU per line over the same span: the JVM, the broker, and their sum. */
  steady: ReturnType<typeof cpuPerItem>;
  /** Seconds from the JVM's start to the first 10 % of the output. */
  startSeconds: number;
}

/** Runs the app over `input` (holding `lines` lines, `expected` of which match) until it wrote every match. */
export async function kafkaStreams(
  kafka: Kafka,
  brokers: string[],
  input: string,
  expected: number,
  guarantee: 'at_least_once' | 'exactly_once_v2',
): Promise<StreamsResult> {
  const id = `bench_ks_${guarantee}_${Date.now().toString(36)}`;
  const output = `${id}_out`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: output, numPartitions: 4 }], waitForLeaders: true });
    const cp = `${path.join(dir, 'target', 'classes')}:${readFileSync(classpathFile, 'utf8').trim()}`;
    const t0 = performance.now();
    const child = spawn('java', ['-cp', cp, 'weblog.peer.LineParse', brokers.join(','), input, output, id, guarantee], { stdio: 'ignore' });
    const written = async () => (await admin.fetchTopicOffsets(output)).reduce((n, p) => n + Number(p.high), 0);
    let mark: { t: number; lines: number; jvm: number; snap: CpuSnapshot } | undefined;
    let last = 0;
    const deadline = Date.now() + 600_000;
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the Kafka Streams app exited with ${child.exitCode}`);
        if (Date.now() > deadline) throw new Error(`the Kafka Streams app wrote ${last} of ${expected} records in 10 minutes`);
        last = await written();
        if (!mark && last >= expected / 10) mark = { t: performance.now(), lines: last, jvm: treeCpuSeconds(child.pid as number), snap: cpuSnapshot() };
        if (last >= expected) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const t1 = performance.now();
      const jvm = treeCpuSeconds(child.pid as number);
      const snap = cpuSnapshot();
      const m = mark as NonNullable<typeof mark>;
      const n = last - m.lines;
      const broker = cpuPerItem(m.snap, snap, n);
      const own = ((jvm - m.jvm) * 1e6) / n;
      return {
        steadyLinesPerSecond: n / ((t1 - m.t) / 1000),
        steady: { ...broker, self: own, total: own + broker.kafka },
        startSeconds: (m.t - t0) / 1000,
      };
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    await admin.deleteTopics({ topics: [output] }).catch(() => undefined);
    await admin.disconnect();
  }
}
