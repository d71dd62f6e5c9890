/**
 * What a new user, or an attacker, hands the CLI: secrets in URLs and config
 * files (never printed), config files that are huge or not files, pipes and
 * FIFOs as inputs, symbolic links in a source folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { weblog } from '../../helpers/cli.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { tempDir } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});
const sample = readLines(fixture('logs', 'elastic_apache.log'));

describe('secrets are never printed', () => {
  it('no planted secret in any error or log line of failing commands', async () => {
    const dir = tempDir('weblog-secrets-', cleanups);
    const planted = ['PLANTEDPW1', 'PLANTEDTOKEN2', 'PLANTEDKEY3', 'PLANTEDCFG4', 'PLANTEDCFG5'];
    const config = path.join(dir, 'weblog.yaml');
    writeFileSync(config, `clickhouse:\n  url: http://weblog:${planted[3]}@clickhouse:8123\n`);
    const config2 = path.join(dir, 'weblog2.yaml');
    writeFileSync(config2, `endpoint: [{ url: "http://u:${planted[4]}@minio:9000" }]\n`);
    const runs = await Promise.all([
      weblog(['report', 'traffic-hourly', '--clickhouse', `http://weblog:${planted[0]}@127.0.0.1:1`]),
      weblog(['migrate', '--clickhouse', `http://${planted[1]}@127.0.0.1:1`]),
      weblog(['report', 'countries', '--clickhouse', `http://127.0.0.1:1/?http_header_X-ClickHouse-Key=${planted[2]}`]),
      weblog(['report', 'countries', '--config', config]),
      weblog(['ship', '--config', config2, '--source', 's3://b/p/', '--brokers', '127.0.0.1:1']),
    ]);
    for (const [i, r] of runs.entries()) {
      expect(r.code, `run ${i}: ${r.stderr}`).not.toBe(0);
      for (const p of planted) expect(`${r.stdout}\n${r.stderr}`, `run ${i}`).not.toContain(p);
    }
    expect(runs[3]?.stderr).toContain('clickhouse: expected a string, number, boolean or list, got a mapping');
  }, 120_000);
});

describe('config files', () => {
  it('refuses a device, a FIFO and a file over 1 MiB at once, naming the limit', async () => {
    const dir = tempDir('weblog-config-', cleanups);
    const fifo = path.join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const big = path.join(dir, 'big.yaml');
    writeFileSync(big, `site: "${'x'.repeat(2 * 1024 * 1024)}"\n`);
    for (const [file, want] of [
      ['/dev/zero', 'not a regular file'],
      [fifo, 'not a regular file'],
      [big, 'over the limit of 1,048,576 bytes (1 MiB)'],
    ] as const) {
      const t0 = Date.now();
      const r = await weblog(['report', '--list', '--config', file]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(want);
      expect(Date.now() - t0).toBeLessThan(10_000); // /dev/zero grew to 8 GB in 21 s
    }
  }, 60_000);
});

describe('inputs that are streams', () => {
  it('weblog parse reads a pipe, /dev/stdin and a FIFO (it failed with ESPIPE), gzip included', async () => {
    const dir = tempDir('weblog-pipes-', cleanups);
    const text = sample.slice(0, 50).join('\n') + '\n';
    const plain = path.join(dir, 'a.log');
    writeFileSync(plain, text);
    execFileSync('gzip', ['-k', plain]);
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const wb = path.join(process.cwd(), 'bin', 'weblog.js');
    const viaShell = (cmd: string) => execFileSync('bash', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    for (const cmd of [
      `node ${wb} parse --no-enrich <(cat ${plain})`,
      `node ${wb} parse --no-enrich <(cat ${plain}.gz)`,
      `cat ${plain} | node ${wb} parse --no-enrich /dev/stdin`,
      `(cat ${plain}.gz > ${fifo} &) ; node ${wb} parse --no-enrich ${fifo}`,
    ]) {
      const out = viaShell(`${cmd} 2>/dev/null`);
      expect(out.trim().split('\n'), cmd).toHaveLength(50);
    }
  }, 60_000);

  it('weblog run refuses a FIFO as --source by name; a symbolic link to a file in a folder is shipped, a FIFO there is named', async () => {
    const dir = tempDir('weblog-src-', cleanups);
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await weblog(['run', '--source', `file://${fifo}`, '--embedded', path.join(dir, 'data'), '--no-reports', '--no-dashboard'], {}, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a FIFO (named pipe), not a file or folder');
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    const real = path.join(dir, 'real.log');
    writeFileSync(real, sample.slice(0, 30).join('\n') + '\n');
    symlinkSync(real, path.join(logs, 'linked.log'));
    execFileSync('mkfifo', [path.join(logs, 'pipe.log')]);
    const run = await weblog(['run', '--source', `file://${logs}/`, '--embedded', path.join(dir, 'data'), '--no-reports', '--no-dashboard'], {}, dir);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stderr).toContain('30 lines shipped, 30 rows stored');
    expect(run.stderr).toMatch(/"msg":"not shipped","entry":"[^"]*pipe\.log","why":"not a regular file/);
  }, 120_000);
});
