/**
 * Least privilege on the current ClickHouse server: each role of
 * docs/clickhouse.md ("Users and rights") as a users.xml user with exactly
 * its documented GRANTs (test/stack/clickhouse-current.ts). The migrator
 * migrates, the processor stores every line once with INSERT and SELECT
 * alone (and without the query log: the deduplication tokens carry the
 * exactly-once rule), the reader reads; each is refused what it must not do,
 * and a worker short of a right stops at once naming the right.
 */
import type { ChildProcess } from 'node:child_process';
import { createClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { currentTarget, withUser } from '../../helpers/clickhouse.js';
import { DedicatedClickHouse } from '../../helpers/clickhouse-server.js';
import { lastLine, weblog } from '../../helpers/cli.js';
import { allStored, balanced, books, expectBalancedAfterHangs, hangThrice, sampleLines, topicWithLines } from '../../helpers/books.js';
import { kafkaScope } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { killHard, processArgs, spawnProcessor, startProcessor } from '../../helpers/processor.js';
import { waitUntil } from '../../helpers/wait.js';
import { leastPrivilegeUsers as users } from '../../stack/clickhouse-current.js';

const { kafka, topics, cleanups } = kafkaScope();
const sample = sampleLines(10_000);

/** A fresh database (its name matches the roles' grants), migrated by the migrator role. */
async function migratedDatabase(url: string): Promise<string> {
  const db = uniqueName('lp');
  const r = await weblog(['migrate', '--clickhouse', withUser(url, users.migrator), '--database', db]);
  expect(r.code, r.stderr).toBe(0);
  cleanups.push(async () => {
    const admin = createClient({ url });
    await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await admin.close();
  });
  return db;
}

const topicWith = (lines: string[], partitions: number) => topicWithLines({ kafka, topics }, lines, partitions);

/** Runs `weblog process` as a child until it exits; its exit code and stderr. */
async function processUntilExit(args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child: ChildProcess = spawnProcessor(args);
  cleanups.push(() => killHard(child));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, stderr, ms: Date.now() - t0 };
}

describe('least privilege on the current ClickHouse server', () => {
  it('the migrator migrates a new database, and again finds nothing to do', async () => {
    const { url } = currentTarget();
    const db = await migratedDatabase(url);
    const again = await weblog(['migrate', '--clickhouse', withUser(url, users.migrator), '--database', db]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toContain('0 applied');
  });

  it('the processor stores every line once with its documented rights, and may not drop or alter', async () => {
    const { url } = currentTarget();
    const db = await migratedDatabase(url);
    const lines = sampleLines(20_000);
    const topic = await topicWith(lines, 3);
    const proc = withUser(url, users.processor);
    const child = spawnProcessor(processArgs(topic, uniqueName('g'), { database: db }, proc, ['--max-insert-rows', '2000']));
    cleanups.push(() => killHard(child));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const ch = new HttpClickHouse({ url: proc, database: db });
    cleanups.push(() => ch.close());
    await waitUntil(
      'all lines stored',
      async () => {
        if (child.exitCode !== null) throw new Error(`weblog process exited ${child.exitCode}: ${stderr.slice(-2000)}`);
        const t = await books(ch);
        return t.rows + t.rejects >= lines.length || undefined;
      },
      120_000,
    );
    await killHard(child);
    expect(await books(ch)).toEqual(balanced(lines));
    await expect(ch.exec('DROP TABLE access_log')).rejects.toThrow(/Not enough privileges/);
    await expect(ch.exec('ALTER TABLE access_log DELETE WHERE 1')).rejects.toThrow(/Not enough privileges/);
  });

  it('a processor on a database nobody migrated stops at once, saying to run weblog migrate', async () => {
    const { url } = currentTarget();
    const db = uniqueName('lp');
    const admin = createClient({ url });
    await admin.command({ query: `CREATE DATABASE ${db}` });
    cleanups.push(async () => {
      await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
      await admin.close();
    });
    const topic = await topicWith(sample.slice(0, 10), 1);
    const r = await processUntilExit(processArgs(topic, uniqueName('g'), { database: db }, withUser(url, users.processor)), 60_000);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(30_000);
    expect(lastLine(r.stderr)).toMatch(/weblog_processor.*(CREATE TABLE|Not enough privileges).*weblog migrate/);
  });

  it('a processor without SELECT on system.processes stops at once, naming the grant it needs', async () => {
    const { url } = currentTarget();
    const db = await migratedDatabase(url);
    const topic = await topicWith(sample.slice(0, 500), 2);
    const r = await processUntilExit(processArgs(topic, uniqueName('g'), { database: db }, withUser(url, users.processorBare)), 60_000);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(30_000);
    expect(r.stderr).toContain('GRANT SELECT ON system.processes TO weblog_processor_bare');
  });

  it('the reader reports, and may not insert; used as a processor it stops at once instead of retrying', async () => {
    const { url } = currentTarget();
    const db = await migratedDatabase(url);
    const topic = await topicWith(sample.slice(0, 2000), 2);
    const run = await startProcessor(new HttpClickHouse({ url: withUser(url, users.processor), database: db }), topic, uniqueName('g'));
    cleanups.push(() => run.stop());
    const reader = new HttpClickHouse({ url: withUser(url, users.reader), database: db });
    cleanups.push(() => reader.close());
    await waitUntil('all lines stored', async () => (await books(reader)).rows + (await books(reader)).rejects >= 2000 || undefined, 60_000);
    const report = await weblog(['report', 'status', '--output', 'json', '--clickhouse', withUser(url, users.reader), '--database', db]);
    expect(report.code, report.stderr).toBe(0);
    const { rows } = JSON.parse(report.stdout) as { rows: { status: number; hits: number }[] };
    expect(rows.reduce((s, r) => s + Number(r.hits), 0)).toBe((await books(reader)).rows);
    await expect(reader.exec("INSERT INTO rejects (reason, line) VALUES ('x', 'y')")).rejects.toThrow(/readonly|Not enough privileges/);
    const asProcessor = await processUntilExit(
      processArgs(await topicWith(sample.slice(0, 10), 1), uniqueName('g'), reader, withUser(url, users.reader)),
      60_000,
    );
    expect(asProcessor.code).toBe(1);
    expect(asProcessor.ms).toBeLessThan(30_000);
    expect(asProcessor.stderr).toMatch(/"stopping: permanent error","error":"REFUSED: [^"]*weblog_reader/);
  });

  it('without the query log (SELECT on system.processes only), a server hung past the request timeout three times: every line once', async () => {
    const server = new DedicatedClickHouse('current');
    cleanups.push(() => server.destroy());
    await server.start();
    const db = await migratedDatabase(server.url);
    const lines = sampleLines(40_000);
    const topic = await topicWith(lines, 2);
    const ch = new HttpClickHouse({ url: withUser(server.url, users.processorNoLog), database: db, requestTimeoutMs: 1500 });
    const run = await startProcessor(ch, topic, uniqueName('g'), { maxInsertRows: 1000, maxRetryDelayMs: 500 });
    cleanups.push(() => run.stop());
    await hangThrice(server, ch);
    await allStored(ch, lines.length, 120_000);
    await expectBalancedAfterHangs(run, ch, lines);
  }, 240_000);
});
