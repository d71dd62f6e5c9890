/**
 * A Kafka broker that hangs (SIGSTOP: connections stay open, nothing
 * answers) used to leave the processor silent for 45-60 s with /healthz ok.
 * It must say so in the log and in /healthz, and recover when the broker does.
 * Pauses the local stack's broker: runs only when the tests started it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { serverDatabase } from '../../helpers/clickhouse.js';
import { stateDir } from '../../stack/config.js';
import { createTopic, kafkaScope, produceLines } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { killHard, processArgs, spawnProcessor } from '../../helpers/processor.js';
import { waitUntil } from '../../helpers/wait.js';

const { kafka, topics, cleanups } = kafkaScope();

const ownBroker = inject('endpointSource') === 'local stack';

describe('a hung broker', () => {
  it.skipIf(!ownBroker)(
    'is reported in the log and by /healthz (503), and recovery too',
    async () => {
      const brokerPid = Number(readFileSync(path.join(stateDir, 'kafka', 'pid'), 'utf8').trim());
      const url = inject('endpoints').clickhouseUrl;
      const ch = await serverDatabase('hang', cleanups, { url });
      const topic = uniqueName('raw');
      topics.push(topic);
      await createTopic(kafka, topic, 1);
      await produceLines(
        kafka,
        topic,
        Array.from({ length: 500 }, (_, i) => `10.0.0.1 - - [17/May/2015:10:00:00 +0000] "GET /${i} HTTP/1.1" 200 1 "-" "-"`),
      );
      const child = spawnProcessor(processArgs(topic, uniqueName('g'), ch, url, ['--session-timeout-ms', '30000'])); // the broker pauses longer than 6 s
      cleanups.push(() => killHard(child));
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const port = await waitUntil('metrics port', async () => /"url":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/.exec(stderr)?.[1], 30_000, 50);
      const health = async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
      const gauge = async (name: string) =>
        Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1]);
      await waitUntil(
        'rows stored',
        async () => Number((await ch.query<{ c: string }>('SELECT count() AS c FROM access_log'))[0]?.c) >= 500 || undefined,
        60_000,
      );
      expect(await health()).toBe(200);
      expect(await gauge('weblog_healthy')).toBe(1);
      process.kill(brokerPid, 'SIGSTOP');
      try {
        await waitUntil('/healthz 503', async () => ((await health()) === 503 ? true : undefined), 45_000, 500);
        // What the Prometheus rules read (docs/prometheus/weblog-alerts.yml): unhealthy, and the brokers silent for a while.
        expect(await gauge('weblog_healthy')).toBe(0);
        expect(await gauge('weblog_kafka_silent_seconds')).toBeGreaterThanOrEqual(10);
        await waitUntil(
          'silence logged',
          async () => /"level":"warn".*"msg":"no answer from the Kafka brokers for \d+ s: a broker may hang; kafkajs keeps waiting"/.test(stderr) || undefined,
          5000,
          100,
        );
      } finally {
        process.kill(brokerPid, 'SIGCONT');
      }
      await waitUntil('/healthz 200 again', async () => ((await health()) === 200 ? true : undefined), 90_000, 500);
      expect(await gauge('weblog_healthy')).toBe(1);
      expect(await gauge('weblog_kafka_silent_seconds')).toBeLessThan(10);
      await waitUntil('recovery logged', async () => stderr.includes('"msg":"the Kafka brokers answer again"') || undefined, 10_000, 100);
      expect(stderr).not.toContain('"level":"error"');
    },
    240_000,
  );
});
