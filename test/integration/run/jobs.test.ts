/**
 * The jobs called as a library (what tests and benchmarks use instead of the
 * CLI): runAll on embedded defaults returns its summary and the reports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/observe/log.js';
import { runAll } from '../../../src/app/jobs.js';
import { fixture, readLines } from '../../helpers/datasets.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-jobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runAll', () => {
  it('ships, stores and reports a file on the in-process queue and chdb; a second run finds it up to date', async () => {
    const log = path.join(dir, 'access.log');
    const lines = readLines(fixture('logs', 'elastic_apache.log')).slice(0, 3000);
    writeFileSync(log, `${lines.join('\n')}\n`);
    const cfg = {
      source: { uri: `file://${log}` },
      clickhouse: { embedded: path.join(dir, 'data') },
      processor: { enrich: {} },
      ship: {},
      reports: true,
      worker: { log: silentLogger },
    };
    const first = await runAll(cfg);
    expect(first).toMatchObject({ linesShipped: 3000, rowsInserted: 3000, rejected: 0, mostlyRejected: false, embedded: true, aborted: false });
    expect(first.upToDate).toBeUndefined();
    expect(first.reports).toContain('Countries (the beginning to now)');
    const second = await runAll({ ...cfg, reports: false });
    expect(second).toMatchObject({ linesShipped: 0, rowsInserted: 0, upToDate: { rows: 3000, rejects: 0 } });
  }, 120_000);
});
