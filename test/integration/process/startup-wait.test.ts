/**
 * A worker started while its servers are down or hung waits for them with
 * backoff (one log line, /healthz 503) and goes to work once they answer.
 * Before: `weblog process` exited 1 after its first attempt when ClickHouse
 * was down, and a hung server held it for the fixed 30 s request timeout.
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { DedicatedClickHouse } from '../../helpers/clickhouse-server.js';
import { createTopic, kafkaScope, produceMixed } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { killHard, spawnProcessor } from '../../helpers/processor.js';
import { waitUntil } from '../../helpers/wait.js';
import { weblog } from '../../helpers/cli.js';

const { kafka, topics, cleanups } = kafkaScope();

function watch(child: ChildProcess) {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { stderr: () => err, exited: new Promise<number | null>((r) => child.once('exit', (code) => r(code))) };
}

const metricsPort = (stderr: string) => Number(/"url":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/.exec(stderr)?.[1]);

describe('a worker started before its servers answer', () => {
  it.each(['legacy', 'current'] as const)(
    'ClickHouse (%s server) down at start: weblog process waits (one log line, /healthz 503), then stores everything once it is up',
    async (kind) => {
      const server = new DedicatedClickHouse(kind);
      cleanups.push(() => server.destroy());
      await server.start(); // learn its ports, then take it down
      await server.stop();
      const topic = uniqueName('raw');
      topics.push(topic);
      await createTopic(kafka, topic, 2);
      const lines = Array.from(
        { length: 3000 },
        (_, i) => `10.3.0.${i % 250} - - [04/Dec/2026:03:00:00 +0000] "GET /w/${i} HTTP/1.1" 200 5 "-" "startup-test"`,
      );
      await produceMixed(kafka, topic, lines);
      const database = uniqueName('sw');
      const child = spawnProcessor([
        '--topic',
        topic,
        '--group',
        uniqueName('g'),
        '--clickhouse',
        server.url,
        '--database',
        database,
        '--dead-letter-topic',
        '',
        '--no-create-topics',
      ]);
      cleanups.push(() => killHard(child));
      const w = watch(child);
      await waitUntil('waiting logged', async () => w.stderr().includes('"msg":"waiting for ClickHouse') || undefined, 30_000, 50);
      const port = metricsPort(w.stderr());
      const h = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(h.status).toBe(503);
      expect(((await h.json()) as { detail: string }).detail).toMatch(/^waiting for ClickHouse: UNAVAILABLE/);
      await new Promise((r) => setTimeout(r, 4000));
      expect(child.exitCode).toBeNull(); // it exited 1 here
      expect(w.stderr().match(/"msg":"waiting for ClickHouse/g)).toHaveLength(1); // said once, not per attempt
      await server.start();
      const ch = new HttpClickHouse({ url: server.url, database });
      cleanups.push(() => ch.close());
      await waitUntil(
        'all stored',
        async () => {
          const [r] = await ch.query<{ c: string | number }>('SELECT count() AS c FROM access_log').catch(() => [{ c: 0 }]);
          return Number(r?.c) >= lines.length || undefined;
        },
        120_000,
        250,
      );
      expect(w.stderr()).toContain('"msg":"ClickHouse answers"');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const [r] = await ch.query<{ c: string | number; u: string | number }>('SELECT count() AS c, uniqExact(path) AS u FROM access_log');
      expect({ rows: Number(r?.c), paths: Number(r?.u) }).toEqual({ rows: lines.length, paths: lines.length });
      child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    },
    240_000,
  );

  it('a hung ClickHouse (accepts, never answers) with --request-timeout-ms 1000: waits, retrying every attempt within the timeout; SIGTERM ends it', async () => {
    const sockets: net.Socket[] = [];
    const hung = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hung.close(r));
    });
    const url = `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}`;
    const child = spawnProcessor([
      '--topic',
      uniqueName('raw'),
      '--group',
      uniqueName('g'),
      '--clickhouse',
      url,
      '--request-timeout-ms',
      '1000',
      '--dead-letter-topic',
      '',
    ]);
    cleanups.push(() => killHard(child));
    const w = watch(child);
    const t0 = Date.now();
    await waitUntil('waiting logged', async () => w.stderr().includes('"msg":"waiting for ClickHouse') || undefined, 30_000, 50);
    expect(Date.now() - t0).toBeLessThan(15_000); // the 1 s timeout, not the old fixed 30 s
    await waitUntil('several attempts', async () => sockets.length >= 3 || undefined, 30_000, 100);
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await w.exited).toBe(1); // ended by its own hand, with one line, not killed by the signal
    expect(w.stderr()).toContain('ABORTED: stopped by SIGTERM while waiting for its servers');
  }, 120_000);

  it('--request-timeout-ms is checked like every number option', async () => {
    const r = await weblog([
      'process',
      '--brokers',
      inject('endpoints').kafkaBrokers.join(','),
      '--clickhouse',
      'http://127.0.0.1:1',
      '--request-timeout-ms',
      '5',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--request-timeout-ms/);
  });
});
