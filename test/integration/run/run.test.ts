/**
 * `weblog run` as a user runs it: a child process, once on embedded
 * defaults (no servers) and once against the real broker, ClickHouse server
 * and S3 server.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runReport } from '../../../src/report/reports.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { weblog } from '../../helpers/cli.js';
import { fixture } from '../../helpers/datasets.js';
import { deleteTopics, testKafka } from '../../helpers/kafka.js';
import { serverTargets } from '../../helpers/clickhouse.js';
import { tempDir, uniqueBucket, uniqueName } from '../../helpers/names.js';
import { createBucket, emptyAndDeleteBucket, put, s3Env, testS3 } from '../../helpers/s3.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('weblog run', () => {
  it('on embedded defaults: the bundled sample into chdb, then the reports', async () => {
    const dir = tempDir('weblog-run-', cleanups);
    const { code, stdout, stderr } = await weblog(['run', '--embedded', path.join(dir, 'data')], {}, dir);
    expect(code, stderr.slice(-2000)).toBe(0);
    for (const title of ['Traffic per hour', 'Top pages', 'Countries', 'Browsers', 'Status codes']) expect(stdout).toContain(title);
    expect(stderr).toContain('weblog run: 10,000 lines shipped, 9,999 rows stored, 1 rejected.');
    // The data stays where it says; a second run ships nothing again.
    const again = await weblog(['run', '--embedded', path.join(dir, 'data'), '--no-reports'], {}, dir);
    expect(again.stderr).toContain('weblog run: already up to date: nothing new in');
    expect(again.stderr).toContain('the database holds 9,999 rows and 1 rejects');
    const ch = new EmbeddedClickHouse({ dir: path.join(dir, 'data') });
    const [c] = await ch.query<{ rows: string; rejects: string }>('SELECT (SELECT count() FROM access_log) AS rows, (SELECT count() FROM rejects) AS rejects');
    expect([Number(c?.rows), Number(c?.rejects)]).toEqual([9999, 1]);
    const countries = await runReport(ch, 'countries', { limit: 1 });
    expect(countries.rows[0]).toMatchObject({ country: 'US' });
    expect(Number(countries.rows[0]?.hits)).toBe(3823);
    await ch.close();
  }, 300_000);

  it('stores lines from any year 1970..2105 and rejects the rest (the Apache docs example line made it exit 1)', async () => {
    const dir = tempDir('weblog-run-', cleanups);
    const log = path.join(dir, 'old.log');
    writeFileSync(
      log,
      [
        '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
        '127.0.0.1 - - [01/Jan/1970:00:00:00 +0000] "GET /epoch HTTP/1.0" 200 1 "-" "-"',
        '127.0.0.1 - - [31/Dec/2105:23:59:59 +0000] "GET /late HTTP/1.0" 200 1 "-" "-"',
        '127.0.0.1 - - [01/Jan/1900:00:00:00 +0000] "GET /too-early HTTP/1.0" 200 1 "-" "-"',
        '',
      ].join('\n'),
    );
    const { code, stderr } = await weblog(['run', '--source', `file://${log}`, '--embedded', path.join(dir, 'data'), '--no-reports'], {}, dir);
    expect(code, stderr.slice(-2000)).toBe(0);
    expect(stderr).toContain('3 rows stored, 1 rejected');
    const ch = new EmbeddedClickHouse({ dir: path.join(dir, 'data') });
    const rows = await ch.query<{ path: string; t: string }>('SELECT path, toString(time) AS t FROM access_log ORDER BY time');
    expect(rows).toEqual([
      { path: '/epoch', t: '1970-01-01 00:00:00.000' },
      { path: '/apache_pb.gif', t: '2000-10-10 20:55:36.000' },
      { path: '/late', t: '2105-12-31 23:59:59.000' },
    ]);
    const [rej] = await ch.query<{ reason: string; detail: string }>('SELECT reason, detail FROM rejects');
    expect(rej?.reason).toBe('bad_time');
    expect(rej?.detail).toContain('outside the times weblog stores (1970-01-01T00:00:00Z to 2106-01-01T00:00:00Z)');
    await ch.close();
  }, 120_000);

  it('a lost state file is refused with a clear message (it made 1,999 of 2,000 new lines count as duplicates); --reset starts over', async () => {
    const dir = tempDir('weblog-run-', cleanups);
    const data = path.join(dir, 'data');
    const log = path.join(dir, 'access.log');
    const lines = (tag: string) =>
      Array.from(
        { length: 2000 },
        (_, i) => `10.0.0.${i % 250} - - [17/May/2015:10:${String(i % 60).padStart(2, '0')}:00 +0000] "GET /${tag}/${i} HTTP/1.1" 200 1 "-" "curl/8.0"\n`,
      ).join('');
    writeFileSync(log, lines('old'));
    const first = await weblog(['run', '--source', `file://${log}`, '--embedded', data, '--no-reports'], {}, dir);
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    expect(first.stderr).toContain('weblog run: 2,000 lines shipped, 2,000 rows stored, 0 rejected.');
    const same = await weblog(['run', '--source', `file://${log}`, '--embedded', data, '--no-reports'], {}, dir);
    expect(same.stderr).toContain(
      `weblog run: already up to date: nothing new in file://${log}; the database holds 2,000 rows and 0 rejects (--reset starts over).`,
    );
    rmSync(path.join(data, 'run-state-weblog.json'));
    writeFileSync(log, lines('new'));
    const lost = await weblog(['run', '--source', `file://${log}`, '--embedded', data, '--no-reports'], {}, dir);
    expect(lost.code).toBe(1);
    expect(lost.stderr.trim().split('\n').at(-1)).toBe(
      `weblog run: STATE_INVALID: the run state ${path.join(data, 'run-state-weblog.json')} is missing, but database weblog holds 2,000 rows and 0 rejects from earlier runs: without it weblog cannot tell which lines are new; restore the file, or start over with --reset (drops the stored rows and the state)`,
    );
    const reset = await weblog(['run', '--source', `file://${log}`, '--embedded', data, '--no-reports', '--reset'], {}, dir);
    expect(reset.code, reset.stderr.slice(-2000)).toBe(0);
    expect(reset.stderr).toContain('weblog run: 2,000 lines shipped, 2,000 rows stored, 0 rejected.');
    const ch = new EmbeddedClickHouse({ dir: data });
    const [c] = await ch.query<{ n: string; old: string }>("SELECT count() AS n, countIf(path LIKE '/old/%') AS old FROM access_log");
    expect([Number(c?.n), Number(c?.old)]).toEqual([2000, 0]);
    await ch.close();
  }, 180_000);

  it.each(serverTargets())(
    'npm start, then the same folder pointed at $label, and back: each target keeps its own state',
    async ({ url }) => {
      // Before: the server run stopped with STATE_INVALID, reading the embedded run's state ("10,000 lines
      // were stored, but database weblog holds none of them").
      const dir = tempDir('weblog-run-switch-', cleanups);
      const database = uniqueName('sw');
      const admin = new HttpClickHouse({ url, database });
      cleanups.push(async () => {
        await admin.exec(`DROP DATABASE IF EXISTS ${database}`);
        await admin.close();
      });
      const embedded = await weblog(['run', '--no-reports', '--no-dashboard', '--database', database], {}, dir);
      expect(embedded.code, embedded.stderr.slice(-1500)).toBe(0);
      expect(embedded.stderr).toContain('10,000 lines shipped, 9,999 rows stored, 1 rejected.');
      const server = await weblog(['run', '--no-reports', '--no-dashboard', '--clickhouse', url, '--database', database], {}, dir);
      expect(server.code, server.stderr.slice(-1500)).toBe(0);
      expect(server.stderr).toContain('10,000 lines shipped, 9,999 rows stored, 1 rejected.');
      for (const [args, where] of [
        [[], 'embedded'],
        [['--clickhouse', url], 'server'],
      ] as const) {
        const again = await weblog(['run', '--no-reports', '--no-dashboard', '--database', database, ...args], {}, dir);
        expect(again.code, `${where}: ${again.stderr.slice(-1500)}`).toBe(0);
        expect(again.stderr, where).toContain('already up to date: nothing new');
      }
    },
    240_000,
  );

  it('a permanent processor error ends in one clear message and exit 1, not a stack dump or a crash', async () => {
    const dir = tempDir('weblog-run-', cleanups);
    const data = path.join(dir, 'data');
    const log = path.join(dir, 'a.log');
    writeFileSync(log, '10.0.0.1 - - [17/May/2015:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8.0"\n');
    expect((await weblog(['run', '--source', `file://${log}`, '--embedded', data, '--no-reports'], {}, dir)).code).toBe(0);
    // Make ClickHouse refuse every row from now on (a schema changed under weblog).
    const ch = new EmbeddedClickHouse({ dir: data });
    await ch.exec('ALTER TABLE access_log ADD CONSTRAINT never CHECK status > 999');
    await ch.close();
    writeFileSync(
      log,
      Array.from(
        { length: 60 },
        (_, i) => `10.0.0.2 - - [17/May/2015:10:01:${String(i).padStart(2, '0')} +0000] "GET /${i} HTTP/1.1" 200 1 "-" "curl/8.0"\n`,
      ).join(''),
      { flag: 'a' },
    );
    const { code, stderr } = await weblog(['run', '--source', `file://${log}`, '--embedded', data, '--no-reports'], {}, dir);
    expect(code).toBe(1);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toMatch(/Unhandled|uncaught/i);
    expect(stderr.trim().split('\n').at(-1)).toMatch(/^weblog run: INSERT_REJECTED: ClickHouse rejects nearly every row \(\d+ of \d+ tried one by one\)/);
  }, 180_000);

  it('warns and exits 1 when nearly every line is rejected, naming the format that fits', async () => {
    const dir = tempDir('weblog-run-', cleanups);
    const log = path.join(dir, 'access.log');
    writeFileSync(
      log,
      Array.from(
        { length: 50 },
        (_, i) => `10.0.0.1 - - [17/May/2015:10:00:${String(i).padStart(2, '0')} +0000] "GET /${i} HTTP/1.1" 200 1 "-" "curl/8.0"\n`,
      ).join(''),
    );
    const { code, stderr } = await weblog(
      ['run', '--source', `file://${log}`, '--embedded', path.join(dir, 'data'), '--no-reports', '--format', 'vhost_combined'],
      {},
      dir,
    );
    expect(code).toBe(1);
    expect(stderr).toContain('nearly every line was rejected (50 of 50): check --format (the rejected lines parse as combined: --format combined)');
  }, 120_000);

  it.each(serverTargets())(
    'on real servers: S3 source, Kafka, $label over HTTP',
    async ({ url, dialect }) => {
      const s3 = testS3();
      const bucket = uniqueBucket('run');
      const topic = uniqueName('raw');
      const progress = `${topic}.progress`;
      const dlq = `${topic}.dlq`;
      const database = uniqueName('run');
      const kafka = testKafka();
      cleanups.push(() => emptyAndDeleteBucket(s3, bucket));
      cleanups.push(() => deleteTopics(kafka, [topic, progress, dlq]));
      await createBucket(s3, bucket);
      await put(s3, bucket, 'web/access.log', readFileSync(fixture('logs', 'elastic_apache.log')));
      const { code, stdout, stderr } = await weblog(
        [
          'run',
          '--source',
          `s3://${bucket}/web/`,
          '--brokers',
          inject('endpoints').kafkaBrokers.join(','),
          '--topic',
          topic,
          '--progress-topic',
          progress,
          '--dead-letter-topic',
          dlq,
          '--group',
          uniqueName('g'),
          '--clickhouse',
          url,
          '--database',
          database,
        ],
        s3Env(),
      );
      expect(code, stderr.slice(-3000)).toBe(0);
      expect(stderr).toContain('weblog run: 10,000 lines shipped, 9,999 rows stored, 1 rejected.');
      const ch = new HttpClickHouse({ url, database });
      cleanups.push(async () => {
        await ch.exec(`DROP DATABASE IF EXISTS ${database}`);
        await ch.close();
      });
      const [c] = await ch.query<{ rows: string; rejects: string }>(
        'SELECT (SELECT count() FROM access_log) AS rows, (SELECT count() FROM rejects) AS rejects',
      );
      expect([Number(c?.rows), Number(c?.rejects)]).toEqual([9999, 1]);
      const [us] = await ch.query<{ c: string }>("SELECT count() AS c FROM access_log WHERE country = 'US'");
      expect(Number(us?.c)).toBe(3823); // the countries report's top row, asked of the raw table
      await ch.createDatabase();
      expect(ch.dialect).toBe(dialect);
      if (ch.isLegacy)
        expect(stderr).toContain(`no reports: SERVER_TOO_OLD: ${url} database ${database} is ClickHouse ${ch.version}; reports need 22.8 or newer`);
      else expect(stdout).toContain('Countries');
    },
    300_000,
  );
});
