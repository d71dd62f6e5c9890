/**
 * Question: on one local log file, how does the whole embedded job
 * (`weblog run`: read, parse, enrich, store every row queryable in chdb with
 * the rollups, print the headline reports) compare with GoAccess producing
 * its HTML report from the same file? Wall time and CPU (user + system of the
 * whole process tree), runs interleaved. Skipped with a message when
 * `goaccess` is not installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sample = readFileSync(path.join(root, 'data/sample/elastic_apache.log'), 'utf8').split('\n').filter(Boolean);

/** Runs `argv` under bash's `time`: wall, user and system seconds of it and its children. */
function timed(argv: string[], env: NodeJS.ProcessEnv = process.env): { wall: number; cpu: number; ok: boolean; err: string } {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%R %U %S'; { time ${quoted} >/dev/null 2>/tmp/weblog-bench-run-file.err ; } 2>&1`], {
    encoding: 'utf8',
    env,
    cwd: root,
  });
  const m = /([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stdout);
  const err = (() => {
    try {
      return readFileSync('/tmp/weblog-bench-run-file.err', 'utf8').slice(-500);
    } catch {
      return '';
    }
  })();
  if (!m) return { wall: NaN, cpu: NaN, ok: false, err: r.stdout + err };
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), ok: r.status === 0, err };
}

function hasGoaccess(): boolean {
  return spawnSync('goaccess', ['--version'], { encoding: 'utf8' }).status === 0;
}

export async function benchRunFile(n: number): Promise<string> {
  if (!hasGoaccess()) return 'skipped: `goaccess` is not installed (Debian: apt-get install goaccess).';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-bench-run-'));
  const file = path.join(dir, 'access.log');
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(sample[i % sample.length] as string);
  writeFileSync(file, parts.join('\n') + '\n');
  const mb = (n * 240) / 1e6;
  const results: Record<string, { wall: number[]; cpu: number[] }> = {};
  const note = (name: string, r: { wall: number; cpu: number; ok: boolean; err: string }) => {
    if (!r.ok) throw new Error(`${name} failed: ${r.err}`);
    const e = (results[name] ??= { wall: [], cpu: [] });
    e.wall.push(r.wall);
    e.cpu.push(r.cpu);
  };
  const env = { ...process.env, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' };
  for (let rep = 0; rep < 2; rep++) {
    note('goaccess 1.7 -> HTML report', timed(['goaccess', file, '--log-format=COMBINED', '-o', path.join(dir, 'report.html')]));
    const data = path.join(dir, `data-${rep}`);
    note(
      'weblog run (embedded chdb, every row stored, rollups, reports)',
      timed([process.execPath, path.join(root, 'bin', 'weblog.js'), 'run', '--source', `file://${file}`, '--embedded', data, '--metrics-port', '0'], env),
    );
    rmSync(data, { recursive: true, force: true });
    note('weblog parse (parse + enrich to JSON lines, no storage)', timed([process.execPath, path.join(root, 'bin', 'weblog.js'), 'parse', file], env));
  }
  rmSync(dir, { recursive: true, force: true });
  const best = (xs: number[]) => Math.min(...xs);
  const g = results['goaccess 1.7 -> HTML report'] as { wall: number[]; cpu: number[] };
  return [
    `| ${n.toLocaleString('en-US')} combined lines (~${mb.toFixed(0)} MB), best of 2, interleaved | wall s | CPU s | µs CPU/line | wall vs goaccess | CPU vs goaccess |`,
    '|---|---:|---:|---:|---:|---:|',
    ...Object.entries(results).map(
      ([name, r]) =>
        `| ${name} | ${best(r.wall).toFixed(1)} | ${best(r.cpu).toFixed(1)} | ${((best(r.cpu) * 1e6) / n).toFixed(2)} | ${(best(r.wall) / best(g.wall)).toFixed(2)}x | ${(best(r.cpu) / best(g.cpu)).toFixed(2)}x |`,
    ),
  ].join('\n');
}
