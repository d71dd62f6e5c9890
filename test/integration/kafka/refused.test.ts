/**
 * Permanent Kafka refusals stop `weblog ship` and `weblog process` within
 * seconds, exit 1, with one line saying what to fix; before, every Kafka
 * failure was a retriable UNAVAILABLE and the workers retried for ever (a
 * producer on a deleted topic never returned). The broker's SASL listener
 * (test stack) has ACLs: user nobody has no rights at all.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { lastLine, weblog } from '../../helpers/cli.js';
import { repoRoot } from '../../helpers/datasets.js';
import { createTopic, deleteTopics, testKafka } from '../../helpers/kafka.js';
import { tempDir, uniqueName } from '../../helpers/names.js';
import { stackConfig } from '../../stack/config.js';

const sasl = inject('endpoints').kafkaSaslBrokers;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});
if (!sasl) process.stderr.write('refused.test.ts: the servers have no SASL listener (KAFKA_SASL_BROKERS): the SASL cases are skipped\n');

/** One line of a file to ship. */
function logFile(): string {
  const dir = tempDir('weblog-refused-', cleanups);
  const file = path.join(dir, 'access.log');
  writeFileSync(file, '127.0.0.1 - - [04/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"\n');
  return file;
}

describe.skipIf(!sasl)('Kafka refusals over SASL (skipped without a SASL listener)', () => {
  it('ship as a user without rights: exit 1 within seconds, one line naming the refusal and what to grant', async () => {
    const t0 = Date.now();
    const r = await weblog(
      [
        'ship',
        '--source',
        logFile(),
        '--brokers',
        (sasl as string[]).join(','),
        '--topic',
        uniqueName('refused'),
        '--kafka-sasl',
        'plain',
        '--kafka-user',
        'nobody',
        '--no-metrics',
      ],
      { KAFKA_PASSWORD: stackConfig.kafkaUsers.nobody },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(lastLine(r.stderr)).toMatch(/REFUSED: .*AUTHORIZATION_FAILED.*grant this Kafka user/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack dump
  });

  it('process with a wrong password: exit 1 within seconds, one line saying to check the user and password', async () => {
    const t0 = Date.now();
    const r = await weblog(
      [
        'process',
        '--brokers',
        (sasl as string[]).join(','),
        '--topic',
        uniqueName('refused'),
        '--kafka-sasl',
        'plain',
        '--kafka-user',
        'weblog',
        '--embedded',
        tempDir('weblog-refused-ch-', cleanups),
        '--no-metrics',
      ],
      { KAFKA_PASSWORD: 'not-the-password' },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(lastLine(r.stderr)).toMatch(/REFUSED: .*SASL_AUTHENTICATION_FAILED.*check the Kafka user name and password/);
  });

  it('the right password as a super user works over the same listener', async () => {
    const topic = uniqueName('sasl_ok');
    const r = await weblog(
      [
        'ship',
        '--source',
        logFile(),
        '--brokers',
        (sasl as string[]).join(','),
        '--topic',
        topic,
        '--progress-topic',
        `${topic}.progress`,
        '--kafka-sasl',
        'plain',
        '--kafka-user',
        'weblog',
        '--no-metrics',
      ],
      { KAFKA_PASSWORD: stackConfig.kafkaUsers.weblog },
    );
    cleanups.push(() => deleteTopics(testKafka(), [topic, `${topic}.progress`]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/"lines":1\b/);
  });
});

describe('Kafka refusals', () => {
  it('an incomplete SASL login is refused before any connection (exit 2), naming what is missing', async () => {
    const r = await weblog(['ship', '--source', logFile(), '--brokers', '127.0.0.1:1', '--kafka-sasl', 'plain', '--kafka-user', 'u'], { KAFKA_PASSWORD: '' });
    expect(r.code).toBe(2);
    expect(lastLine(r.stderr)).toMatch(/--kafka-sasl plain needs a password in the environment variable KAFKA_PASSWORD/);
  });

  it('ship --no-create-topics to a topic that does not exist: exit 1 at once, naming the topic', async () => {
    const topic = uniqueName('missing');
    const r = await weblog([
      'ship',
      '--source',
      logFile(),
      '--brokers',
      inject('endpoints').kafkaBrokers.join(','),
      '--topic',
      topic,
      '--no-create-topics',
      '--no-metrics',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(lastLine(r.stderr)).toContain(`topic ${topic} does not exist on the brokers and --no-create-topics is set`);
  });

  it('the raw topic deleted under a running processor: it stops within seconds, exit 1, saying the topic does not exist', async () => {
    const kafka = testKafka();
    const topic = uniqueName('deleted');
    await createTopic(kafka, topic, 2);
    const child = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'bin', 'weblog.js'),
        'process',
        '--brokers',
        inject('endpoints').kafkaBrokers.join(','),
        '--topic',
        topic,
        '--group',
        topic,
        '--dead-letter-topic',
        '',
        '--no-create-topics',
        '--embedded',
        tempDir('weblog-deleted-ch-', cleanups),
        '--no-metrics',
      ],
      { cwd: repoRoot, env: { ...process.env, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? -1)));
    cleanups.push(async () => void child.kill('SIGKILL'));
    // Consuming (partitions assigned), then the topic goes.
    for (let i = 0; i < 300 && !stderr.includes('partitions assigned'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stderr).toContain('partitions assigned');
    const t0 = Date.now();
    await deleteTopics(kafka, [topic]);
    const code = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(-2), 60_000))]);
    expect(code, stderr).toBe(1);
    expect(Date.now() - t0).toBeLessThan(40_000);
    expect(stderr).toMatch(/REFUSED: consume .*UNKNOWN_TOPIC_OR_PARTITION.*the topic does not exist/);
  });
});
