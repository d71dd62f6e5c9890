/**
 * The "plain kafkajs consume" baseline, in a process of its own: weblog's
 * record decoder (src/transport/kafkajs-decoder.ts) replaces kafkajs' own for
 * the whole process it is installed in, so the baseline must not share one.
 * Usage: node --import tsx bench/consume-baseline.ts BROKERS TOPIC LINES
 * Prints {"seconds": s, "cpuUs": µs} on stdout.
 */
import { Kafka, logLevel } from 'kafkajs';

const [brokers = '', topic = '', lines = '0'] = process.argv.slice(2);
const n = Number(lines);
const kafka = new Kafka({ clientId: 'bench-baseline', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const c = kafka.consumer({ groupId: `bench_baseline_${Date.now().toString(36)}`, maxBytesPerPartition: 4 * 1024 * 1024 });
await c.connect();
await c.subscribe({ topic, fromBeginning: true });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let seen = 0;
let t1 = 0;
await new Promise<void>((resolve) => {
  void c.run({
    eachBatch: async ({ batch }) => {
      seen += batch.messages.length;
      if (seen >= n && t1 === 0) {
        t1 = performance.now();
        resolve();
      }
    },
  });
});
const cpu = process.cpuUsage(cpu0);
await c.disconnect();
process.stdout.write(JSON.stringify({ seconds: (t1 - t0) / 1000, cpuUs: cpu.user + cpu.system }) + '\n');
