/**
 * The "plain kafkajs consume" baseline: a consumer group reading a topic from
 * the beginning with no processing. Run as a script it measures stock kafkajs
 * in a process of its own: weblog's record decoder
 * (src/transport/kafkajs-decoder.ts) replaces kafkajs' own for the whole
 * process it is installed in, so the stock baseline must not share one.
 * Usage: node --import tsx bench/consume-baseline.ts BROKERS TOPIC LINES
 * Prints {"seconds": s, "cpuUs": µs} on stdout.
 */
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

/** Consumes `n` messages of `topic`; wall seconds and CPU µs of this process. */
export async function plainConsume(kafka: Kafka, topic: string, n: number): Promise<{ seconds: number; cpuUs: number }> {
  const c = kafka.consumer({ groupId: `bench_consume_${Date.now().toString(36)}`, maxBytesPerPartition: 4 * 1024 * 1024 });
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
  return { seconds: (t1 - t0) / 1000, cpuUs: cpu.user + cpu.system };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [brokers = '', topic = '', lines = '0'] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'bench-baseline', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  process.stdout.write(JSON.stringify(await plainConsume(kafka, topic, Number(lines))) + '\n');
}
