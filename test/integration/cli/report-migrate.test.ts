/**
 * `weblog migrate` and `weblog report` as a new user meets them: on embedded
 * data, on a folder that does not exist, and on Debian's ClickHouse 18.16.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { serverTargets } from '../../helpers/clickhouse.js';
import { lastLine, weblog } from '../../helpers/cli.js';
import { tempDir, uniqueName } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('weblog report', () => {
  it('on a folder that does not exist says there is no data, creates nothing, exits 1', async () => {
    const dir = tempDir('weblog-report-', cleanups);
    const missing = path.join(dir, 'nonexistent');
    const r = await weblog(['report', 'countries', '--embedded', missing], {}, dir);
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(
      `weblog report: NO_DATA: no weblog data in ${missing}: the folder does not exist; run \`weblog run\` first, or point --embedded at the data folder (or --clickhouse at a server)`,
    );
    expect(existsSync(missing)).toBe(false);
  });

  it('keeps working with WEBLOG_FORMAT=nginx set for the workers (--output is its own option)', async () => {
    const dir = tempDir('weblog-report-', cleanups);
    const log = path.join(dir, 'access.log');
    writeFileSync(log, '10.0.0.1 - - [17/May/2015:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8.0" "-"\n');
    const env = { WEBLOG_FORMAT: 'nginx' };
    expect((await weblog(['run', '--source', `file://${log}`, '--embedded', path.join(dir, 'data'), '--no-reports'], env, dir)).code).toBe(0);
    const r = await weblog(['report', 'status', '--embedded', path.join(dir, 'data'), '--output', 'json'], env, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ report: 'status', rows: [{ status: 200 }] });
    const other = await weblog(['report', 'status', '--embedded', path.join(dir, 'data')], { WEBLOG_OUTPUT: 'csv' }, dir);
    expect(other.stdout.split('\n')[0]).toBe('status,hits,share_pct');
  });
});

describe.each(serverTargets())('on $label', ({ url, dialect }) => {
  it('migrate applies and re-checks its schema; report works on a current server and says 18.16 is too old; a missing database is not created', async () => {
    const database = uniqueName('cli');
    const probe = new HttpClickHouse({ url, database });
    cleanups.push(async () => {
      await probe.exec(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
      await probe.close();
    });
    await probe.detect();
    const missing = await weblog(['report', 'countries', '--clickhouse', url, '--database', database]);
    expect(missing.code).toBe(1);
    expect(lastLine(missing.stderr)).toContain(`NO_DATA: no weblog data in ${url}`);
    expect(await probe.databaseExists()).toBe(false);
    const first = await weblog(['migrate', '--clickhouse', url, '--database', database]);
    expect(first.code, first.stderr).toBe(0);
    const again = await weblog(['migrate', '--clickhouse', url, '--database', database]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 applied, \d+ already applied/);
    const report = await weblog(['report', 'countries', '--clickhouse', url, '--database', database]);
    expect(probe.dialect).toBe(dialect);
    if (!probe.isLegacy) {
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout).toContain('(no data)');
      expect(first.stdout).toContain('7 applied');
    } else {
      expect(report.code).toBe(1);
      expect(first.stderr).toContain(`is ClickHouse ${probe.version}: applying the legacy test schema`);
      expect(lastLine(report.stderr)).toBe(
        `weblog report: SERVER_TOO_OLD: ${url} database ${database} is ClickHouse ${probe.version}; reports need 22.8 or newer (window functions, query parameters)`,
      );
    }
  });
});
