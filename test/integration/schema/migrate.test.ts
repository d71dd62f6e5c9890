import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDir, migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { uniqueName } from '../../helpers/names.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migrate on chdb', () => {
  it('applies every migration once, then nothing', async () => {
    const ch = new EmbeddedClickHouse({ dir, database: uniqueName('m') });
    const first = await migrate(ch);
    expect(first.applied).toEqual([
      '0001_access_log',
      '0002_rollups',
      '0003_processor',
      '0004_bundles',
      '0005_dedup_rollups',
      '0006_bot_category',
      '0007_bot_verified',
    ]);
    const second = await migrate(ch);
    expect(second).toEqual({
      applied: [],
      alreadyApplied: ['0001_access_log', '0002_rollups', '0003_processor', '0004_bundles', '0005_dedup_rollups', '0006_bot_category', '0007_bot_verified'],
    });
    const tables = await ch.query<{ name: string }>('SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name');
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'access_log',
        'traffic_hourly',
        'traffic_hourly_mv',
        'traffic_monthly',
        'pages_daily',
        'top_hourly',
        'rejects',
        'schema_migrations',
      ]),
    );
    await ch.close();
  });

  it('applies only the new migration when one is added', async () => {
    const files = mkdtempSync(path.join(os.tmpdir(), 'weblog-migrations-'));
    cpSync(defaultMigrationsDir, files, { recursive: true });
    const ch = new EmbeddedClickHouse({ dir, database: uniqueName('m') });
    await migrate(ch, { dir: files });
    writeFileSync(path.join(files, '0099_extra.sql'), 'CREATE TABLE IF NOT EXISTS extra (x UInt8) ENGINE = MergeTree ORDER BY x;\n');
    expect((await migrate(ch, { dir: files })).applied).toEqual(['0099_extra']);
    await ch.close();
    rmSync(files, { recursive: true, force: true });
  });

  it('refuses a database whose applied migration was edited, or which has one the files lack', async () => {
    const files = mkdtempSync(path.join(os.tmpdir(), 'weblog-migrations-'));
    cpSync(defaultMigrationsDir, files, { recursive: true });
    const ch = new EmbeddedClickHouse({ dir, database: uniqueName('m') });
    await migrate(ch, { dir: files });
    appendFileSync(path.join(files, '0002_rollups.sql'), '\n-- edited\n');
    await expect(migrate(ch, { dir: files })).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      message: expect.stringMatching(/0002_rollups was applied .* checksum/) as unknown,
    });
    await expect(migrate(ch, { dir: path.join(files, '..', 'nowhere-else') }).catch((e: unknown) => e)).resolves.toBeInstanceOf(Error);
    const only1 = mkdtempSync(path.join(os.tmpdir(), 'weblog-migrations-'));
    cpSync(path.join(defaultMigrationsDir, '0001_access_log.sql'), path.join(only1, '0001_access_log.sql'));
    await expect(migrate(ch, { dir: only1 })).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      message: expect.stringContaining('0002_rollups which is not among the files') as unknown,
    });
    await ch.close();
    rmSync(files, { recursive: true, force: true });
    rmSync(only1, { recursive: true, force: true });
  });
});
