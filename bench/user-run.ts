/**
 * Question: what does a line cost, whole system, when weblog runs the way a
 * user runs it? The file goes into Kafka with `weblog ship` (its bundles, its
 * gzip), and `weblog process` runs as a command with its defaults, start-up
 * (TypeScript loading, migrations, joining the group) included, until every
 * line is in ClickHouse (rows + rejects). CPU of its process tree, the
 * ClickHouse server and the broker, from /proc. Peer in the same run,
 * interleaved round by round: ClickHouse's Kafka engine with the 9-regex view
 * (kafka-engine.ts) on the same topic. `bench process` measures the
 * processor's steady state in-process; this is the figure a user sees.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpClickHouse } from '../src/sink/clickhouse/http.js';
import { createKafka } from '../src/transport/kafka.js';
import { cpuSnapshot, treeCpuSeconds, type BenchServer } from './cpu.js';
import { kafkaEngine } from './kafka-engine.js';
import { benchEndpoints } from './stack.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin/weblog.js');

/** Runs the CLI to its end; rejects with its stderr on a non-zero exit. */
function runCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`weblog ${args[0]} exited ${code}: ${err}`))));
  });
}

interface Run {
  name: string;
  seconds: number;
  /** µs per line */
  own: number;
  clickhouse: number;
  kafka: number;
  total: number;
  /** Peak RSS of the weblog process, MB. */
  rssMb?: number;
  /** Lines/s between 10 % and 90 % stored: past start-up and the group's first rebalance. */
  steadyRate?: number;
}

/** `weblog process` with its defaults, `replicas` of them in one group, on `topic` into a fresh database, until `lines` are stored. */
async function weblogProcess(
  chUrl: string,
  server: BenchServer,
  brokers: string[],
  topic: string,
  lines: number,
  replicas: number,
  extra: string[] = [],
): Promise<Run> {
  const db = `bench_ur_${Date.now().toString(36)}`;
  const ch = new HttpClickHouse({ url: chUrl, database: db });
  const s0 = cpuSnapshot(server);
  const t0 = performance.now();
  const args = [
    'process',
    '--brokers',
    brokers.join(','),
    '--topic',
    topic,
    '--group',
    db,
    '--clickhouse',
    chUrl,
    '--database',
    db,
    '--dead-letter-topic',
    `${db}.rejects`,
    '--no-metrics',
    ...extra,
  ];
  let err = '';
  const children = Array.from({ length: replicas }, () => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    return { child, exited: new Promise<number | null>((r) => child.on('exit', r)), cpu: 0, rssMb: 0 };
  });
  let stored = 0;
  let t10 = 0;
  let t90 = 0;
  try {
    for (;;) {
      for (const c of children) {
        if (c.child.exitCode !== null) throw new Error(`weblog process exited ${c.child.exitCode}: ${err}`);
        c.cpu = treeCpuSeconds(c.child.pid as number);
        try {
          const status = readFileSync(`/proc/${c.child.pid}/status`, 'latin1');
          c.rssMb = Math.max(c.rssMb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
        } catch {
          // exiting
        }
      }
      try {
        const [r] = await ch.query<{ c: string | number }>(`SELECT (SELECT count() FROM ${db}.access_log) + (SELECT count() FROM ${db}.rejects) AS c`);
        stored = Number(r?.c ?? 0);
      } catch {
        stored = 0; // the database is not migrated yet
      }
      if (t10 === 0 && stored >= lines * 0.1) t10 = performance.now();
      if (t90 === 0 && stored >= lines * 0.9) t90 = performance.now();
      if (stored >= lines) break;
      if (performance.now() - t0 > 600_000) throw new Error(`weblog process stored ${stored} of ${lines} lines in 10 minutes`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    const s1 = cpuSnapshot(server);
    const us = (s: number) => (s * 1e6) / lines;
    const own = children.reduce((a, c) => a + c.cpu, 0);
    const r = { own: us(own), clickhouse: us(s1.clickhouse - s0.clickhouse), kafka: us(s1.kafka - s0.kafka) };
    const name =
      replicas > 1
        ? `weblog process, ${replicas} replicas in one group`
        : extra.length
          ? `weblog process ${extra.join(' ')} (start-up included)`
          : 'weblog process (CLI, defaults, start-up included)';
    return {
      name,
      seconds,
      ...r,
      total: r.own + r.clickhouse + r.kafka,
      rssMb: Math.max(...children.map((c) => c.rssMb)),
      steadyRate: (lines * 0.8) / ((t90 - t10) / 1000),
    };
  } finally {
    for (const c of children) c.child.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    await ch.exec(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
    await ch.close();
  }
}

const k = (v: number | undefined) => Math.round(v ?? 0).toLocaleString('en-US');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** `also`: the CLI options of a second `weblog process` run in every round, beside the defaults (a setting's cost in the same run). */
export async function benchUserRun(lineCount: number, rounds = 3, current = false, also: string[] = []): Promise<string> {
  const ep = await benchEndpoints();
  const server: BenchServer = current ? 'clickhouse-current' : 'clickhouse';
  const chUrl = current ? ep.clickhouseCurrentUrl : ep.clickhouseUrl;
  if (!chUrl) throw new Error('no current ClickHouse server in the stack');
  const sample = readFileSync(path.join(root, 'data/sample/elastic_apache.log'), 'utf8').split('\n').filter(Boolean);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-user-run-'));
  const topic = `bench_ur_${Date.now().toString(36)}`;
  try {
    const out: string[] = [];
    for (let i = 0; i < lineCount; i += sample.length) out.push(sample.slice(0, Math.min(sample.length, lineCount - i)).join('\n'));
    writeFileSync(path.join(dir, 'access.log'), `${out.join('\n')}\n`);
    await runCli([
      'ship',
      '--source',
      `file://${dir}`,
      '--brokers',
      ep.kafkaBrokers.join(','),
      '--topic',
      topic,
      '--partitions',
      '4',
      '--progress-topic',
      `${topic}.progress`,
      '--no-metrics',
    ]);
    const kafka = createKafka({ brokers: ep.kafkaBrokers });
    const runs: Run[] = [];
    /** The Kafka engine run of each run's round. */
    const engines: Run[] = [];
    const scaled: { one: Run; two: Run }[] = [];
    for (let round = 0; round < rounds; round++) {
      const one = await weblogProcess(chUrl, server, ep.kafkaBrokers, topic, lineCount, 1);
      runs.push(one);
      const k = await kafkaEngine(chUrl, kafka, ep.kafkaBrokers, topic, lineCount, { oneLinePerMessage: false, server });
      const engine: Run = {
        name: 'peer: ClickHouse Kafka engine + 9-regex view, parse only',
        seconds: k.seconds,
        own: 0,
        clickhouse: k.cpu.clickhouse,
        kafka: k.cpu.kafka,
        total: k.cpu.clickhouse + k.cpu.kafka,
      };
      runs.push(engine);
      engines.push(engine, engine);
      if (also.length) {
        runs.push(await weblogProcess(chUrl, server, ep.kafkaBrokers, topic, lineCount, 1, also));
        engines.push(engine);
      }
      // Two replicas on this machine's two cores, sharing them with the broker and the ClickHouse server.
      scaled.push({ one, two: await weblogProcess(chUrl, server, ep.kafkaBrokers, topic, lineCount, 2) });
      process.stderr.write(`round ${round + 1} of ${rounds} done\n`);
    }
    const head =
      '| round | run | wall s | lines/s | weblog µs/line | ClickHouse µs/line | broker µs/line | whole system µs/line | vs the engine | peak RSS MB |';
    const perRound = also.length ? 3 : 2;
    const rows = runs.map((r, i) => {
      const engine = engines[i] as Run;
      return `| ${Math.floor(i / perRound) + 1} | ${r.name} | ${r.seconds.toFixed(1)} | ${Math.round(lineCount / r.seconds).toLocaleString('en-US')} | ${r.own.toFixed(2)} | ${r.clickhouse.toFixed(2)} | ${r.kafka.toFixed(2)} | ${r.total.toFixed(2)} | ${(r.total / engine.total).toFixed(2)}x | ${r.rssMb ? Math.round(r.rssMb) : ''} |`;
    });
    const ratioOf = (name: string) => median(runs.map((r, i) => (r.name === name ? r.total / (engines[i] as Run).total : NaN)).filter((x) => !Number.isNaN(x)));
    const names = [...new Set(runs.map((r) => r.name))].filter((n) => !n.startsWith('peer:'));
    return [
      `${lineCount.toLocaleString('en-US')} lines of the Elastic sample, shipped by \`weblog ship\` (bundles, gzip) into 4 partitions; ${current ? 'the current ClickHouse server (26.7)' : 'ClickHouse 18.16'}; ${rounds} rounds, interleaved`,
      '',
      head,
      '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
      ...rows,
      '',
      ...names.map((n) => `median whole-system ratio, ${n} / Kafka engine: ${ratioOf(n).toFixed(2)}x`),
      '',
      `Two replicas in one group (${os.cpus().length} cores, shared with the broker and the ClickHouse server), same round:`,
      '',
      '| round | one replica: lines/s | two replicas: lines/s | speed-up | steady (10 % to 90 % stored): one | two | speed-up | two replicas: whole system µs/line | peak RSS MB per replica |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
      ...scaled.map(
        (s, i) =>
          `| ${i + 1} | ${Math.round(lineCount / s.one.seconds).toLocaleString('en-US')} | ${Math.round(lineCount / s.two.seconds).toLocaleString('en-US')} | ${(s.one.seconds / s.two.seconds).toFixed(2)}x | ${k(s.one.steadyRate)} | ${k(s.two.steadyRate)} | ${((s.two.steadyRate ?? 0) / (s.one.steadyRate ?? 1)).toFixed(2)}x | ${s.two.total.toFixed(2)} | ${Math.round(s.two.rssMb ?? 0)} |`,
      ),
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
