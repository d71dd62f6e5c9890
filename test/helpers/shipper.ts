/** `weblog ship` as a child process on the test stack's S3 server and broker, with its buckets and topics cleaned up. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, inject } from 'vitest';
import { repoRoot } from './datasets.js';
import { deleteTopics, testKafka, type TopicLine } from './kafka.js';
import { uniqueBucket, uniqueName } from './names.js';
import { killHard } from './processor.js';
import { emptyAndDeleteBucket, s3Env, testS3 } from './s3.js';

/** Children, buckets and topics of one test file; removed after it. */
export function shipScope() {
  const kafka = testKafka();
  const s3 = testS3();
  const buckets: string[] = [];
  const topics: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) await killHard(c);
    for (const b of buckets) await emptyAndDeleteBucket(s3, b);
    await deleteTopics(kafka, topics);
  });

  function ship(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'bin', 'weblog.js'), 'ship', '--brokers', inject('endpoints').kafkaBrokers.join(','), '--metrics-port', '0', ...args],
      { cwd: repoRoot, env: { ...process.env, ...s3Env(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    return child;
  }

  function names() {
    const bucket = uniqueBucket('ship');
    const topic = uniqueName('raw');
    buckets.push(bucket);
    topics.push(topic, `${topic}.progress`);
    return { bucket, topic, progress: `${topic}.progress` };
  }

  return { kafka, s3, ship, names };
}

export function finished(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

/** Lines in the topic grouped by source object, in byte-offset order. */
export function bySource(msgs: TopicLine[]): Map<string, string[]> {
  const m = new Map<string, { off: number; v: string }[]>();
  for (const x of msgs) {
    const k = x.headers['weblog-source'] ?? '';
    const list = m.get(k) ?? [];
    list.push({ off: Number(x.headers['weblog-offset']), v: x.value });
    m.set(k, list);
  }
  return new Map([...m].map(([k, l]) => [k, l.sort((a, b) => a.off - b.off).map((e) => e.v)]));
}

/** What `child` has written to stderr so far (its JSON log lines), read through the returned function. */
export function watch(child: ChildProcess): () => string {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return () => err;
}

/** The objects a shipper logged as shipped, from its stderr. */
export const shippedBy = (stderr: string): Set<string> => new Set([...stderr.matchAll(/"msg":"shipped","object":"([^"]+)"/g)].map((m) => m[1] as string));

/** Stops `children` gracefully (SIGTERM), all at once; their exit codes. */
export async function stopAll(...children: ChildProcess[]): Promise<(number | null)[]> {
  const ends = children.map((c) => finished(c));
  for (const c of children) c.kill('SIGTERM');
  return (await Promise.all(ends)).map((e) => e.code);
}
