/**
 * Question: what does a steady, live stream cost the ClickHouse server, as
 * `weblog process` runs with its defaults? Backlogs are inserted in large
 * INSERTs; a live stream is inserted as it arrives (every fetch that
 * returns, at most --max-wait apart), and a current server's CPU per row
 * grows as INSERTs get smaller (bench/README.md, "Insert format").
 * One `weblog process` (the CLI, defaults) on a 4-partition topic; lines of
 * the Elastic sample produced at --rates lines/s in messages of up to 50
 * lines every 100 ms, for --seconds each after a warm-up; CPU of the server,
 * of weblog and of the broker from /proc, INSERTs counted from what the
 * table holds against the server's query log where it can be read.
 * Rate 0 is the idle cost: the server and weblog with nothing to store.
 * Run: npm run bench -- live-cost [--current] [--seconds 30] [--rates 0,100,1000,10000] [--variants ';--flush-interval-ms 5000']
 * (--variants: `weblog process` option sets to compare, separated by ';', '' the defaults; each rate runs them in turn)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Partitioners, type Kafka } from 'kafkajs';
import { HttpClickHouse } from '../src/sink/clickhouse/http.js';
import { createKafka } from '../src/transport/kafka.js';
import { cpuSnapshot, treeCpuSeconds, type BenchServer } from './cpu.js';
import { benchEndpoints } from './stack.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin/weblog.js');

async function createTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
}

async function stored(ch: HttpClickHouse): Promise<number> {
  try {
    const [r] = await ch.query<{ c: string | number }>('SELECT count() AS c FROM access_log');
    return Number(r?.c ?? 0);
  } catch {
    return -1; // not migrated yet
  }
}

/** `variants`: the `weblog process` options of each run compared at every rate ('' : the defaults). */
export async function benchLiveCost(seconds: number, rates: number[], current: boolean, variants: string[] = ['']): Promise<string> {
  const ep = await benchEndpoints();
  const server: BenchServer = current ? 'clickhouse-current' : 'clickhouse';
  const chUrl = current ? ep.clickhouseCurrentUrl : ep.clickhouseUrl;
  if (!chUrl) throw new Error('no current ClickHouse server in the stack');
  const sample = readFileSync(path.join(root, 'data/sample/elastic_apache.log'), 'utf8').split('\n').filter(Boolean);
  const kafka = createKafka({ brokers: ep.kafkaBrokers });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const out = [
    '| lines/s | weblog process options | INSERTs/s | rows per INSERT | ClickHouse: cores | ClickHouse µs/line | weblog: cores | weblog µs/line | broker µs/line |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  let version = '';
  try {
    // Each rate is measured for every variant in turn (one `weblog process` and topic each), so the variants share the machine's moods.
    for (const rate of rates)
      for (const variant of variants) {
        out.push(await measure(rate, variant));
        process.stderr.write(`${rate} lines/s, ${variant || 'defaults'} done\n`);
      }
  } finally {
    await producer.disconnect();
  }
  return [
    `\`weblog process\` (the CLI, its defaults unless the row says) into ${current ? 'the current ClickHouse server (26.7)' : `ClickHouse ${version}`}; 4 partitions; each rate for ${seconds} s after a 5 s warm-up; CPU over the measured window.`,
    '',
    ...out,
  ].join('\n');

  async function measure(rate: number, variant: string): Promise<string> {
    const name = `bench_lc_${Date.now().toString(36)}`;
    await createTopic(kafka, name, 4);
    const ch = new HttpClickHouse({ url: chUrl as string, database: name });
    await ch.detect();
    version = ch.version;
    const args = [
      'process',
      '--brokers',
      ep.kafkaBrokers.join(','),
      '--topic',
      name,
      '--group',
      name,
      '--clickhouse',
      chUrl as string,
      '--database',
      name,
      '--no-metrics',
    ];
    args.push(...variant.split(' ').filter(Boolean));
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    let sent = 0;
    /** Produces `rate` lines/s for `secs` seconds, in messages of up to 50 lines every 100 ms. */
    const produce = async (secs: number) => {
      if (rate === 0) return new Promise<void>((r) => setTimeout(r, secs * 1000)); // the idle cost: nothing to store
      const tickMs = 100;
      const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
      const start = Date.now();
      for (let k = 0; Date.now() - start < secs * 1000; k++) {
        const wait = start + k * tickMs - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const messages: { value: string }[] = [];
        for (let j = 0; j < perTick; j += 50)
          messages.push({
            value: Array.from({ length: Math.min(50, perTick - j) }, (_, i) => `${sample[(sent + j + i) % sample.length] as string}\n`).join(''),
          });
        await producer.send({ topic: name, messages });
        sent += perTick;
      }
    };
    try {
      for (let t0 = Date.now(); (await stored(ch)) < 0;) {
        if (child.exitCode !== null) throw new Error(`weblog process exited ${child.exitCode}: ${err}`);
        if (Date.now() - t0 > 60_000) throw new Error('weblog process did not migrate its database within 60 s');
        await new Promise((r) => setTimeout(r, 200));
      }
      await produce(5); // warm-up: the group joined, caches and the server's first parts
      const rows0 = await stored(ch);
      const s0 = cpuSnapshot(server);
      const w0 = treeCpuSeconds(child.pid as number);
      const parts0 = await insertsSoFar(ch, name);
      const t0 = performance.now();
      await produce(seconds);
      const wall = (performance.now() - t0) / 1000;
      const s1 = cpuSnapshot(server);
      const w1 = treeCpuSeconds(child.pid as number);
      const parts1 = await insertsSoFar(ch, name);
      const lines = (await stored(ch)) - rows0;
      const inserts = parts1 >= 0 && parts0 >= 0 ? parts1 - parts0 : NaN;
      const us = (s: number) => (lines > 0 ? ((s * 1e6) / lines).toFixed(2) : '');
      return `| ${rate.toLocaleString('en-US')} | ${variant ? `\`${variant}\`` : 'defaults'} | ${Number.isNaN(inserts) ? 'n/a' : (inserts / wall).toFixed(1)} | ${Number.isNaN(inserts) ? 'n/a' : inserts > 0 ? Math.round(lines / inserts).toLocaleString('en-US') : ''} | ${((s1.clickhouse - s0.clickhouse) / wall).toFixed(2)} | ${us(s1.clickhouse - s0.clickhouse)} | ${((w1 - w0) / wall).toFixed(2)} | ${us(w1 - w0)} | ${us(s1.kafka - s0.kafka)} |`;
    } finally {
      child.kill('SIGTERM');
      await exited;
      await ch.exec(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
      await ch.close();
    }
  }
}

/** How many INSERTs into access_log the server has finished for this database (-1 when its query log cannot be read). */
async function insertsSoFar(ch: HttpClickHouse, db: string): Promise<number> {
  try {
    await ch.exec('SYSTEM FLUSH LOGS');
    const [r] = await ch.query<{ c: string | number }>(
      "SELECT count() AS c FROM system.query_log WHERE type = 'QueryFinish' AND query_kind = 'Insert' AND current_database = {db:String} AND query LIKE 'INSERT INTO access_log%'",
      { db },
    );
    return Number(r?.c ?? 0);
  } catch {
    return -1;
  }
}
