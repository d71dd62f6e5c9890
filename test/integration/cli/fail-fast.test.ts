/**
 * Everything that needs no server is checked before the first connection:
 * a wrong --format with every server down exits 2 within a second of the
 * CLI's own start-up, naming the format, and creates nothing. Before, `weblog
 * process --format nosuchformat` with no broker created the embedded
 * database, applied migrations, waited 19 s for Kafka and exited 1 with
 * "Connection error: connect ECONNREFUSED"; the format error never showed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastLine, weblog } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Wall time of `weblog ARGS`, ms. */
async function timed(args: string[], env: NodeJS.ProcessEnv = {}) {
  const t0 = performance.now();
  const r = await weblog(args, env);
  return { ...r, ms: performance.now() - t0 };
}

describe('fail fast, before any connection', () => {
  const down = ['--brokers', '127.0.0.1:1'];
  const cases: [string, (data: string) => string[], RegExp][] = [
    [
      'process (Kafka and ClickHouse down)',
      (d) => ['process', ...down, '--clickhouse', 'http://127.0.0.1:1', '--format', 'nosuchformat', '--embedded', d],
      /unknown format "nosuchformat"/,
    ],
    ['process (Kafka down, embedded)', (d) => ['process', ...down, '--embedded', d, '--format', 'nosuchformat'], /unknown format "nosuchformat"/],
    ['run (embedded)', (d) => ['run', '--embedded', d, '--format', 'nosuchformat'], /unknown format "nosuchformat"/],
    ['run (Kafka down)', (d) => ['run', ...down, '--embedded', d, '--format', '%h %Z'], /FORMAT_INVALID/],
    ['process with a GeoIP file that does not exist', (d) => ['process', ...down, '--embedded', d, '--geoip', path.join(d, 'none.mmdb')], /none\.mmdb/],
  ];
  it.each(cases)('%s: exit 2 within a second of start-up, naming what is wrong, nothing created', async (_name, args, says) => {
    const baseline = await timed(['--version']);
    const data = path.join(tempDir('weblog-ff-', cleanups), 'data');
    const r = await timed(args(data));
    expect(r.code, r.stderr).toBe(r.stderr.includes('GEOIP') ? 1 : 2);
    expect(lastLine(r.stderr)).toMatch(says);
    expect(r.ms - baseline.ms, `took ${Math.round(r.ms)} ms, --version ${Math.round(baseline.ms)} ms`).toBeLessThan(1000);
    expect(existsSync(data), 'the embedded folder was created').toBe(false);
  });
});
