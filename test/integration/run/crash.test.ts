/**
 * `weblog run` on embedded defaults, killed with SIGKILL at seeded random
 * moments and restarted each time: every line of the file ends up stored once.
 * Its in-process queue saves how far it got in a state file; that file once
 * moved into the middle of a ship call, and lines shipped again after a
 * crash were stored twice.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { weblog } from '../../helpers/cli.js';
import { fixture, readLines, repoRoot } from '../../helpers/datasets.js';
import { tempDir } from '../../helpers/names.js';
import { killHard } from '../../helpers/processor.js';
import { waitUntil } from '../../helpers/wait.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

let seed = 20261130;
const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;

describe('weblog run under kill -9', () => {
  it('killed at random moments and restarted: each line stored once, nothing lost', async () => {
    const dir = tempDir('weblog-run-crash-', cleanups);
    const sample = readLines(fixture('logs', 'elastic_apache.log'));
    const n = 300_000;
    const file = path.join(dir, 'access.log');
    writeFileSync(file, Array.from({ length: n }, (_, i) => sample[i % sample.length]).join('\n') + '\n');
    const data = path.join(dir, 'data');
    const args = [path.join(repoRoot, 'bin', 'weblog.js'), 'run', '--source', `file://${file}`, '--embedded', data, '--no-reports', '--metrics-port', '0'];
    const committed = () => {
      try {
        return (JSON.parse(readFileSync(path.join(data, 'run-state-weblog.json'), 'utf8')) as { nextOffset: number }).nextOffset;
      } catch {
        return 0; // not written yet, or mid-rename
      }
    };
    let kills = 0;
    for (let k = 0; k < 4; k++) {
      const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' }, stdio: 'ignore' });
      cleanups.push(() => killHard(child));
      const before = committed();
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      // once more than one ship call's lines are committed (the first commit after a start holds one, aligned), at a random point of what follows
      await Promise.race([waitUntil('batches committed', async () => committed() > before + 30_000 || undefined, 120_000, 20), done]);
      await new Promise((r) => setTimeout(r, rnd() * 600));
      if (child.exitCode !== null) break;
      await killHard(child);
      kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    const last = await weblog(args.slice(1), {}, dir);
    expect(last.code, last.stderr.slice(-2000)).toBe(0);
    const ch = new EmbeddedClickHouse({ dir: data });
    try {
      const [t] = await ch.query<Record<string, string | number>>(
        'SELECT (SELECT count() FROM access_log) AS rows, (SELECT count() FROM rejects) AS rejects, (SELECT count() - uniqExact(kafka_offset, kafka_line) FROM access_log) AS dups, (SELECT uniqExact(source_offset) FROM access_log) AS offsets',
      );
      expect({ rows: Number(t?.rows), rejects: Number(t?.rejects), dups: Number(t?.dups), offsets: Number(t?.offsets) }).toEqual({
        rows: n - n / 10_000,
        rejects: n / 10_000,
        dups: 0,
        offsets: n - n / 10_000,
      });
    } finally {
      await ch.close();
    }
  }, 600_000);
});
