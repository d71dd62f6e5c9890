/**
 * A replica's INSERT that lands after another replica took its partition
 * over, on the current ClickHouse server: the new owner cuts the same batch
 * (the extent the old one recorded in its offset commit) into the same
 * blocks with the same insert_deduplication_tokens, so the late INSERT and
 * the re-insert collapse into one, and the rollups count it once.
 */
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { currentTarget, serverDatabase } from '../../helpers/clickhouse.js';
import { DedicatedClickHouse } from '../../helpers/clickhouse-server.js';
import { allStored, balanced, books, sampleLines, topicWithLines } from '../../helpers/books.js';
import { kafkaScope } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { killHard, processArgs, spawnProcessor } from '../../helpers/processor.js';
import { HoldingProxy } from '../../helpers/proxy.js';
import { waitUntil } from '../../helpers/wait.js';

const { kafka, topics, cleanups } = kafkaScope();
const input = sampleLines;

let seed = 20261206;
const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;

const topicWith = (lines: string[], partitions: number) => topicWithLines({ kafka, topics }, lines, partitions);

/** Every line once, and the hourly rollup equal to the raw rows hour by hour. */
async function expectExact(ch: HttpClickHouse, lines: string[]): Promise<void> {
  expect(await books(ch)).toEqual(balanced(lines));
  const raw = await ch.query<{ h: string; c: string }>('SELECT toStartOfHour(time) AS h, count() AS c FROM access_log GROUP BY h ORDER BY h');
  const rolled = await ch.query<{ h: string; c: string }>('SELECT hour AS h, countMerge(hits) AS c FROM traffic_hourly GROUP BY h ORDER BY h');
  expect(rolled).toEqual(raw);
}

function track(child: ChildProcess): ChildProcess {
  cleanups.push(() => killHard(child));
  return child;
}

describe('a late INSERT of a replica that died, on the current ClickHouse server', () => {
  it('held on its way to the server until another replica with larger batches stored the partition: counted once', async () => {
    const { url } = currentTarget();
    const ch = await serverDatabase('takeover', cleanups, { url });
    const proxy = new HoldingProxy(Number(new URL(url).port));
    const proxied = await proxy.start();
    cleanups.push(() => proxy.close());
    const lines = input(30_000);
    const topic = await topicWith(lines, 2);
    const group = uniqueName('g');
    // A: small batches, through the proxy; B: the default 1 MiB batches, straight to the server.
    const a = track(
      spawnProcessor(processArgs(topic, group, ch, proxied, ['--max-batch-bytes', '65536', '--max-insert-rows', '1000', '--request-timeout-ms', '2000'])),
    );
    await waitUntil('rows flowing', async () => (await books(ch)).rows > 3000 || undefined, 60_000, 20);
    proxy.hold();
    await waitUntil('an INSERT held', async () => /INSERT(%20|\+| )INTO/i.test(proxy.heldText()) || undefined, 30_000, 20);
    await killHard(a);
    track(spawnProcessor(processArgs(topic, group, ch, url, ['--max-insert-rows', '1000'])));
    await allStored(ch, lines.length);
    proxy.release(); // A's INSERT lands now, after B stored its lines
    await new Promise((r) => setTimeout(r, 3000));
    await expectExact(ch, lines);
  }, 300_000);

  it.each([2, 3])(
    'the server hung (SIGSTOP) past the request timeout with INSERTs in flight, one of %i replicas killed -9 and its partitions taken over while it hangs: counted once (3 seeded rounds)',
    async (replicas) => {
      const server = new DedicatedClickHouse('current');
      cleanups.push(() => server.destroy());
      await server.start();
      const ch = await serverDatabase('stall', cleanups, { url: server.url, requestTimeoutMs: 1500 });
      const lines = input(60_000);
      const topic = await topicWith(lines, 6);
      const group = uniqueName('g');
      const args = (i: number) =>
        processArgs(topic, group, ch, server.url, ['--max-insert-rows', '1000', '--request-timeout-ms', '1500', '--max-batch-bytes', String(65536 * (i + 1))]);
      const children = Array.from({ length: replicas }, (_, i) => track(spawnProcessor(args(i))));
      for (let round = 0; round < 3; round++) {
        const before = (await books(ch)).rows;
        const t = await books(ch);
        if (t.rows + t.rejects >= lines.length) break;
        await waitUntil(
          'rows flowing',
          async () => ((x) => x.rows > before + 2000 || x.rows + x.rejects >= lines.length || undefined)(await books(ch)),
          90_000,
          20,
        );
        await new Promise((r) => setTimeout(r, rnd() * 300));
        server.pause();
        await new Promise((r) => setTimeout(r, 500 + rnd() * 1500)); // INSERTs sent meanwhile sit in the hung server
        const victim = children.shift() as ChildProcess;
        await killHard(victim);
        children.push(track(spawnProcessor(args(round + replicas)))); // a replacement joins, with other batch sizes
        await new Promise((r) => setTimeout(r, 8000)); // the session times out; the others take over and read back into the hung server
        server.resume();
      }
      await allStored(ch, lines.length);
      await new Promise((r) => setTimeout(r, 3000)); // a late INSERT would land now
      for (const c of children) await killHard(c);
      await expectExact(ch, lines);
    },
    420_000,
  );
});
