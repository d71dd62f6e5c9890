/**
 * ClickHouse's disk fills up mid-run (its data folder on a small tmpfs), on
 * data whose batches span many months, and the server is killed -9 mid-run:
 * every line is stored once. Before: 29 and 3,803 of 300,000 lines were lost
 * in two runs. A chunk whose rows spanned several months was written as one
 * part per month, committed one by one; "No space left on device" on a later
 * part left the earlier months stored, and the read-back of the highest
 * stored position then skipped the failed months' rows for good. Meanwhile
 * the processor took the disk-full error for bad rows, split the batch and
 * crash-looped.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { rmSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../src/schema/migrate.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { DedicatedClickHouse } from '../../helpers/clickhouse-server.js';
import { createTopic, kafkaScope, produceMixed } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { killHard, processArgs, spawnProcessor } from '../../helpers/processor.js';
import { waitUntil } from '../../helpers/wait.js';

const { kafka, topics, cleanups } = kafkaScope();

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Line i: its month changes every 3,000 lines (a batch spans several), its path names it. */
const line = (i: number) => {
  const m = Math.floor(i / 3000) % 12;
  const year = 2020;
  return `10.2.${(i >> 8) & 255}.${i & 255} - - [${String((i % 27) + 1).padStart(2, '0')}/${months[m]}/${year}:1${i % 10}:00:00 +0000] "GET /d/${i}?q=${'x'.repeat(i % 40)} HTTP/1.1" 200 ${i % 5000} "https://example.com/${i % 300}" "Mozilla/5.0 (disk-full test ${i % 97})"`;
};

async function totals(ch: HttpClickHouse) {
  const [r] = await ch.query<Record<string, string | number>>(
    'SELECT (SELECT count() FROM access_log) AS rows, (SELECT count() FROM rejects) AS rejects, (SELECT count() - uniqExact(kafka_partition, kafka_offset, kafka_line) FROM access_log) AS dup_rows, (SELECT uniqExact(path) FROM access_log) AS paths',
  );
  return { rows: Number(r?.rows), rejects: Number(r?.rejects), dupRows: Number(r?.dup_rows), paths: Number(r?.paths) };
}

function watch(child: ChildProcess): { stderr: () => string; exited: Promise<number | null> } {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 2_000_000) err = err.slice(-500_000);
  });
  return { stderr: () => err, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

async function setup(kind: 'legacy' | 'current', n: number, mb?: number) {
  const server = new DedicatedClickHouse(kind);
  cleanups.push(() => server.destroy());
  if (mb !== undefined && !server.mountSmallDisk(mb)) return undefined;
  await server.start();
  const ch = new HttpClickHouse({ url: server.url, database: uniqueName('df'), requestTimeoutMs: 10_000 });
  await ch.createDatabase();
  await migrate(ch);
  cleanups.push(() => ch.close());
  const topic = uniqueName('raw');
  topics.push(topic);
  await createTopic(kafka, topic, 3);
  const lines = Array.from({ length: n }, (_, i) => line(i));
  await produceMixed(kafka, topic, lines);
  return { server, ch, topic, lines };
}

describe.each(['legacy', 'current'] as const)('a full disk and a killed server on data spanning months (%s server)', (kind) => {
  it('ClickHouse runs out of disk mid-run: the processor waits (healthz 503, no exit), resumes when there is room, every line once', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('needs root to mount a small tmpfs as the data folder');
    const s = await setup(kind, 300_000, 1024);
    if (!s) return ctx.skip('mount -t tmpfs is not allowed on this machine');
    const { server, ch, topic, lines } = s;
    // Leave room for a part of the run only.
    const filler = path.join(server.dataDir, 'filler.bin');
    const free = () => {
      const f = statfsSync(server.dataDir);
      return f.bavail * f.bsize;
    };
    execFileSync('fallocate', ['-l', String(Math.max(4096, free() - 24 * 1024 * 1024)), filler]);
    const child = spawnProcessor(processArgs(topic, uniqueName('g'), ch, server.url, ['--max-insert-rows', '20000', '--log-level', 'info']));
    cleanups.push(() => killHard(child));
    const w = watch(child);
    await waitUntil('disk full noticed', async () => w.stderr().includes('ClickHouse has no disk space left') || undefined, 180_000, 100);
    const port = Number(/"url":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/.exec(w.stderr())?.[1]);
    // Merges free space now and then, so every waiting write may land for a moment: while the disk stays
    // short, the next write waits again, and /healthz says so.
    await waitUntil(
      'healthz 503 and the gauge at 1 (disk_full)',
      async () => {
        const health = await fetch(`http://127.0.0.1:${port}/healthz`);
        const text = await health.text();
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        // the gauge says the same as /healthz (read right after it, while the wait lasts)
        return health.status === 503 && /disk_full/.test(text) && /weblog_clickhouse_waiting\{reason="disk_full"\} 1/.test(metrics) ? text : undefined;
      },
      60_000,
      50,
    );
    await new Promise((r) => setTimeout(r, 3000)); // waiting, not crash-looping
    expect(child.exitCode, w.stderr().slice(-4000)).toBeNull();
    const stuck = await totals(ch);
    expect(stuck.rows).toBeLessThan(lines.length);
    rmSync(filler);
    await waitUntil('all stored', async () => (await totals(ch)).rows >= lines.length || undefined, 240_000, 250).catch(async (err: Error) => {
      throw new Error(`${err.message}; stored ${JSON.stringify(await totals(ch))}; processor log: ${w.stderr().slice(-4000)}`);
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await totals(ch)).toEqual({ rows: lines.length, rejects: 0, dupRows: 0, paths: lines.length });
    expect(w.stderr()).toContain('ClickHouse takes writes again');
    expect(w.stderr()).not.toContain('narrowing the batch');
    expect(child.exitCode).toBeNull();
  }, 600_000);

  it('the server killed -9 at seeded moments mid-INSERT: every line once', async () => {
    const s = await setup(kind, 150_000);
    if (!s) throw new Error('unreachable');
    const { server, ch, topic, lines } = s;
    const child = spawnProcessor(processArgs(topic, uniqueName('g'), ch, server.url, ['--max-insert-rows', '20000']));
    cleanups.push(() => killHard(child));
    let seed = 20261204;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let k = 0; k < 3; k++) {
      const before = (await totals(ch)).rows;
      await waitUntil('rows flowing', async () => (await totals(ch)).rows > before + 5000 || undefined, 120_000, 20);
      await new Promise((r) => setTimeout(r, rnd() * 400));
      await server.stop();
      await new Promise((r) => setTimeout(r, 1000));
      await server.start();
    }
    await waitUntil('all stored', async () => (await totals(ch)).rows >= lines.length || undefined, 240_000, 250);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await totals(ch)).toEqual({ rows: lines.length, rejects: 0, dupRows: 0, paths: lines.length });
  }, 600_000);
});
