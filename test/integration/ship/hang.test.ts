/**
 * An S3 or SQS server that hangs instead of refusing (SIGSTOP: connections
 * are accepted by the kernel, nothing answers). The AWS SDK waits for ever by
 * default; the shipper must give a silent request up after
 * --source-timeout-ms, say so, retry, and carry on when the server answers
 * again, with every line once. Pauses the local stack's s3proxy and
 * ElasticMQ (integration test files run one at a time): runs only when the
 * tests started the stack.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { stateDir } from '../../stack/config.js';
import { endOffsets, readTopicLines } from '../../helpers/kafka.js';
import { createBucket, put } from '../../helpers/s3.js';
import { finished, shipScope } from '../../helpers/shipper.js';
import { s3Event, s3EventRecord, sqsEnv, sqsScope } from '../../helpers/sqs.js';
import { waitUntil } from '../../helpers/wait.js';

const { kafka, s3, ship, names } = shipScope();
const sqs = sqsScope();
const ownStack = inject('endpointSource') === 'local stack';
if (!ownStack) process.stderr.write('hung-server tests skipped: they pause the local stack’s servers, and the tests did not start it\n');

const pidOf = (service: string) => Number(readFileSync(path.join(stateDir, service, 'pid'), 'utf8').trim());

/** Runs `during` with the service stopped (SIGSTOP), and always resumes it. */
async function hung<T>(service: string, during: () => Promise<T>): Promise<T> {
  const pid = pidOf(service);
  process.kill(pid, 'SIGSTOP');
  try {
    return await during();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

describe.skipIf(!ownStack)('a hung source server', () => {
  it('S3 hangs mid-object: the silent read is given up after --source-timeout-ms and retried; the object resumes once the server answers; every line once', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const n = 600_000; // about 40 MB: far more than the socket buffers hold, so the hang finds the body still streaming
    const body =
      Array.from({ length: n }, (_, i) => `10.1.${(i >> 8) & 255}.${i & 255} - - [07/Dec/2026:10:00:00 +0000] "GET /page/${i} HTTP/1.1" 200 ${i}`).join('\n') +
      '\n';
    await put(s3, bucket, 'big.log', body);
    const child = ship(['--source', `s3://${bucket}/`, '--topic', topic, '--progress-topic', progress, '--batch-lines', '2000', '--source-timeout-ms', '2000']);
    const done = finished(child);
    await waitUntil('the first lines shipped', async () => ((await endOffsets(kafka, topic)) > 0 ? true : undefined), 60_000, 20);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await hung('s3', async () => {
      await waitUntil(
        'the silent read given up',
        async () =>
          /object: retrying after a transient error.*TimeoutError|object: retrying after a transient error.*timed out/.test(stderr) ? true : undefined,
        20_000,
        100,
      );
    });
    const { code, stderr: all } = await done;
    expect(code, all.slice(-3000)).toBe(0);
    expect(all).not.toMatch(/"msg":"object (failed|postponed)"/);
    const lines = (await readTopicLines(kafka, topic, n + 1, 3000)).lines;
    const got = lines.map((l) => l.value);
    expect(got.length).toBe(n);
    expect(new Set(got).size).toBe(n);
  }, 240_000);

  it('SQS hangs: the silent long poll is given up after --source-timeout-ms plus its 20 s wait and retried; a notification sent after the server answers again is shipped and deleted', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const queue = await sqs.queue();
    const child = ship(
      ['--source', `s3://${bucket}/`, '--topic', topic, '--progress-topic', progress, '--notifications', `sqs://${queue}`, '--source-timeout-ms', '2000'],
      sqsEnv,
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitUntil('the shipper reading the queue', async () => (/"msg":"reading S3 event notifications/.test(stderr) ? true : undefined), 60_000, 50);
    await put(s3, bucket, 'a.log', 'first line\nsecond line\n');
    await sqs.send(queue, s3Event(s3EventRecord(bucket, 'a.log')));
    await waitUntil('the first object shipped', async () => ((await endOffsets(kafka, topic)) > 0 ? true : undefined), 60_000, 50);
    // Its message deleted: what hangs next is the long poll.
    await waitUntil(
      'the first message deleted',
      async () => (await sqs.depth(queue)).inFlight + (await sqs.depth(queue)).visible === 0 || undefined,
      30_000,
      100,
    );
    await hung('sqs', async () => {
      await waitUntil(
        'the silent receive given up',
        async () => (/notifications: receive failed, retrying.*(TimeoutError|timed out)/.test(stderr) ? true : undefined),
        60_000,
        200,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${stderr.split('\n').slice(-15).join('\n')}`);
      });
    });
    await put(s3, bucket, 'b.log', 'third line\n');
    await sqs.send(queue, s3Event(s3EventRecord(bucket, 'b.log')));
    const lines = await waitUntil(
      'the second object shipped',
      async () => {
        const got = (await readTopicLines(kafka, topic, 4, 1000)).lines;
        return got.length >= 3 ? got : undefined;
      },
      90_000,
      500,
    );
    expect(lines.map((l) => l.value).sort()).toEqual(['first line', 'second line', 'third line']);
    await waitUntil(
      'both messages deleted',
      async () => {
        const d = await sqs.depth(queue);
        return d.visible + d.inFlight === 0 ? true : undefined;
      },
      30_000,
      500,
    );
    child.kill('SIGTERM');
    expect(await exited, stderr.slice(-3000)).toBe(0);
  }, 240_000);
});
