/**
 * Log rotation as logrotate does it, on real files, with the shipper killed
 * -9 at seeded moments while files rotate and restarted each time:
 * - rename (the default `create`): a.log -> a.log.1, a new a.log; the server
 *   writes a little more to the renamed file before it reopens;
 * - rename, compressed a rotation later (`compress` + `delaycompress`):
 *   a.log.1 becomes a.log.2.gz with the real gzip command;
 * - copytruncate: a.log copied to a.log.1, then truncated in place.
 * Every line must reach the in-process queue's ClickHouse (weblog run
 * --follow, embedded) and a Kafka topic (weblog ship --follow) exactly once.
 * Before the fix a renamed file was shipped again from byte 0 as soon as the
 * new file took its name: 6,000 rows for 3,000 lines.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, readdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { weblog } from '../../helpers/cli.js';
import { repoRoot } from '../../helpers/datasets.js';
import { deleteTopics, readTopicLines, testKafka } from '../../helpers/kafka.js';
import { tempDir, uniqueName } from '../../helpers/names.js';
import { killHard } from '../../helpers/processor.js';

const cleanups: (() => Promise<void>)[] = [];
const kafka = testKafka();
const topics: string[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await deleteTopics(kafka, topics);
});

type Kind = 'rename' | 'rename-gzip' | 'copytruncate';

/** A combined-format line whose path names it. */
const line = (id: number) =>
  `10.0.${(id >> 8) & 255}.${id & 255} - - [04/Dec/2026:01:${String(Math.floor(id / 6000) % 60).padStart(2, '0')}:00 +0000] "GET /k/${id} HTTP/1.1" 200 ${id % 997} "-" "rotation-test"\n`;

/** Writes lines and rotates files the way logrotate does, between which the shipper is killed. */
class Logs {
  next = 0;
  constructor(
    readonly dir: string,
    private readonly kind: Kind,
  ) {
    writeFileSync(this.file, '');
  }
  get file(): string {
    return path.join(this.dir, 'a.log');
  }
  write(n: number, file = this.file): void {
    let s = '';
    for (let i = 0; i < n; i++) s += line(this.next++);
    appendFileSync(file, s);
  }
  /** Shifts a.log.N[.gz] to N+1 (oldest first). */
  private shift(): void {
    const rotated = readdirSync(this.dir)
      .map((f) => /^a\.log\.(\d+)(\.gz)?$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(b[1]) - Number(a[1]));
    for (const m of rotated) {
      const n = Number(m[1]);
      const gz = m[2] ?? '';
      renameSync(path.join(this.dir, m[0]), path.join(this.dir, `a.log.${n + 1}${gz}`));
      // delaycompress: the file rotated last time is compressed now (the real gzip command).
      if (this.kind === 'rename-gzip' && n === 1 && !gz) execFileSync('gzip', [path.join(this.dir, 'a.log.2')]);
    }
  }
  rotate(): void {
    this.shift();
    if (this.kind === 'copytruncate') {
      copyFileSync(this.file, path.join(this.dir, 'a.log.1'));
      truncateSync(this.file, 0);
    } else {
      renameSync(this.file, path.join(this.dir, 'a.log.1'));
      this.write(5, path.join(this.dir, 'a.log.1')); // the server writes on until it reopens its log
      writeFileSync(this.file, '');
    }
  }
}

let seed = 20261204;
const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const readiness = new WeakMap<ChildProcess, Promise<void>>();

/** Resolves once the child logged that it works (`msg` in its JSON log on stderr), or exited. */
function ready(child: ChildProcess, msg: string): Promise<void> {
  let r = readiness.get(child);
  if (!r) readiness.set(child, (r = whenLogged(child, msg)));
  return r;
}

/** WEBLOG_TEST_LOG_DIR=folder keeps every child's log there, to see what happened in a failed run. */
const logDir = process.env.WEBLOG_TEST_LOG_DIR;
let childNo = 0;

function whenLogged(child: ChildProcess, msg: string): Promise<void> {
  const keep = logDir ? path.join(logDir, `child-${process.pid}-${++childNo}.log`) : undefined;
  return new Promise((resolve) => {
    let seen = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (keep) appendFileSync(keep, d);
      seen += d.toString();
      if (seen.includes(`"msg":"${msg}"`)) resolve();
      if (seen.length > 100_000) seen = seen.slice(-1000);
    });
    child.once('exit', () => resolve());
  });
}

/** Rotations while a `--follow` child runs, killed -9 and restarted at seeded moments; returns the lines written. */
async function rotateUnderKills(logs: Logs, start: () => ChildProcess, readyMsg: string): Promise<{ kills: number }> {
  let child = start();
  let kills = 0;
  for (let round = 0; round < 6; round++) {
    await ready(child, readyMsg);
    logs.write(400 + Math.floor(rnd() * 400));
    await sleep(100 + rnd() * 500);
    logs.rotate();
    logs.write(50 + Math.floor(rnd() * 200));
    // A kill shortly after the rotation, sometimes before the shipper's next pass saw it.
    await sleep(rnd() * 600);
    if (rnd() < 0.7) {
      await killHard(child);
      kills++;
      child = start();
    }
  }
  logs.write(300);
  await sleep(1000);
  await killHard(child);
  return { kills: kills + 1 };
}

describe('rotated log files are shipped once', () => {
  for (const kind of ['rename', 'rename-gzip', 'copytruncate'] as const) {
    it(`${kind}, weblog run --follow on the in-process queue, killed -9 at seeded moments: each line stored once`, async () => {
      const dir = tempDir(`weblog-rot-${kind}-`, cleanups);
      const logs = new Logs(tempDir(`weblog-rot-logs-`, cleanups), kind);
      const data = path.join(dir, 'data');
      const args = [
        'run',
        '--source',
        `file://${logs.dir}/`,
        '--embedded',
        data,
        '--no-reports',
        '--no-dashboard',
        '--metrics-port',
        '0',
        ...(logDir ? ['--log-level', 'debug'] : []),
      ];
      const start = () => {
        const c = spawn(process.execPath, [path.join(repoRoot, 'bin', 'weblog.js'), ...args, '--follow', '--poll-interval-ms', '50'], {
          cwd: dir,
          env: { ...process.env, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        cleanups.push(() => killHard(c));
        return c;
      };
      const { kills } = await rotateUnderKills(logs, start, 'running');
      expect(kills).toBeGreaterThanOrEqual(3);
      if (kind === 'rename-gzip') expect(existsSync(path.join(logs.dir, 'a.log.3.gz'))).toBe(true);
      const last = await weblog(args, {}, dir);
      if (logDir) appendFileSync(path.join(logDir, `final-${process.pid}-${kind}.log`), last.stderr);
      expect(last.code, last.stderr.slice(-2000)).toBe(0);
      const ch = new EmbeddedClickHouse({ dir: data });
      try {
        const [t] = await ch.query<Record<string, string | number>>(
          `SELECT count() AS rows, uniqExact(path) AS distinct_paths, (SELECT count() FROM rejects) AS rejects FROM access_log`,
        );
        const stored = new Set((await ch.query<{ p: string }>('SELECT DISTINCT path AS p FROM access_log')).map((r) => r.p));
        const missing = Array.from({ length: logs.next }, (_, i) => `/k/${i}`).filter((p) => !stored.has(p));
        expect({ rows: Number(t?.rows), distinct: Number(t?.distinct_paths), rejects: Number(t?.rejects), missing: missing.slice(0, 8) }).toEqual({
          rows: logs.next,
          distinct: logs.next,
          rejects: 0,
          missing: [],
        });
      } finally {
        await ch.close();
      }
    }, 300_000);

    it(`${kind}, weblog ship --follow to Kafka, killed -9 at seeded moments: each line in the topic once`, async () => {
      const logs = new Logs(tempDir(`weblog-rotk-logs-`, cleanups), kind);
      const topic = uniqueName('rot');
      const progress = uniqueName('rot-progress');
      topics.push(topic, progress);
      const args = [
        'ship',
        '--source',
        `file://${logs.dir}/`,
        '--brokers',
        inject('endpoints').kafkaBrokers.join(','),
        '--topic',
        topic,
        '--progress-topic',
        progress,
        '--batch-lines',
        '200',
        '--metrics-port',
        '0',
      ];
      const start = () => {
        const c = spawn(process.execPath, [path.join(repoRoot, 'bin', 'weblog.js'), ...args, '--follow', '--poll-interval-ms', '50'], {
          cwd: repoRoot,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        cleanups.push(() => killHard(c));
        return c;
      };
      const { kills } = await rotateUnderKills(logs, start, 'shipping');
      expect(kills).toBeGreaterThanOrEqual(3);
      const last = await weblog(args);
      expect(last.code, last.stderr.slice(-2000)).toBe(0);
      const { lines } = await readTopicLines(kafka, topic, logs.next + 1, 8000);
      const paths = lines.map((l) => /GET (\S+)/.exec(l.value)?.[1] ?? l.value);
      const counts = new Map<string, number>();
      for (const p of paths) counts.set(p, (counts.get(p) ?? 0) + 1);
      const twice = [...counts].filter(([, n]) => n > 1).map(([p]) => p);
      const missing = Array.from({ length: logs.next }, (_, i) => `/k/${i}`).filter((p) => !counts.has(p));
      expect({ lines: lines.length, twice: twice.slice(0, 5), missing: missing.slice(0, 5) }).toEqual({ lines: logs.next, twice: [], missing: [] });
    }, 300_000);
  }
});
