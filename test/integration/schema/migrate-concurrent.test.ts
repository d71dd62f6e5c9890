/**
 * Migrators starting together on a new database (four workers of a fresh
 * deployment): every one succeeds and the schema is whole, with each
 * migration recorded once. Before: on 18.16 one of two processors exited 1
 * with `Code: 44 Cannot add column kafka_line: column with this name already
 * exists` in 2 of 5 starts (the legacy ADD COLUMN is not idempotent there).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { weblog } from '../../helpers/cli.js';
import { serverTargets } from '../../helpers/clickhouse.js';
import { tempDir, uniqueName } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('migrations run by several workers at once', () => {
  it.each(serverTargets())(
    'four `weblog migrate` processes at once on a fresh database of $label, five times: all exit 0, the schema is whole',
    async ({ url, dialect }) => {
      for (let trial = 0; trial < 5; trial++) {
        const database = uniqueName('mc');
        const admin = new HttpClickHouse({ url, database });
        cleanups.push(async () => {
          await admin.exec(`DROP DATABASE IF EXISTS ${database}`);
          await admin.close();
        });
        const runs = await Promise.all(Array.from({ length: 4 }, () => weblog(['migrate', '--clickhouse', url, '--database', database])));
        for (const r of runs) expect(r.code, `trial ${trial}: ${r.stderr.slice(-1500)}`).toBe(0);
        const cols = await admin.query<{ table: string; name: string }>(
          `SELECT table, name FROM system.columns WHERE database = '${database}' AND name = 'kafka_line' ORDER BY table`,
        );
        expect(cols.map((c) => c.table)).toEqual(['access_log', 'rejects']);
        const history = await admin.query<{ version: string | number; n: string | number }>(
          'SELECT version, count() AS n FROM schema_migrations GROUP BY version ORDER BY version',
        );
        expect(history.map((h) => Number(h.version))).toEqual(dialect === 'legacy' ? [1, 2, 3] : [1, 2, 3, 4, 5, 6, 7]);
        // Once each, unless two finished the same one at the same instant (harmless: the same checksum).
        expect(history.every((h) => Number(h.n) >= 1 && Number(h.n) <= 4)).toBe(true);
        expect((await migrate(admin)).applied).toEqual([]);
      }
    },
    240_000,
  );

  it('four migrators at once on a fresh chdb database: all succeed, the schema is whole', async () => {
    const dir = tempDir('weblog-mc-', cleanups);
    const ch = new EmbeddedClickHouse({ dir, database: uniqueName('mc') });
    cleanups.push(() => ch.close());
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate(ch)));
    const applied = results.flatMap((r) => r.applied);
    expect(new Set(applied)).toEqual(
      new Set(['0001_access_log', '0002_rollups', '0003_processor', '0004_bundles', '0005_dedup_rollups', '0006_bot_category', '0007_bot_verified']),
    );
    const cols = await ch.query<{ table: string }>(
      "SELECT table FROM system.columns WHERE database = currentDatabase() AND name = 'kafka_line' ORDER BY table",
    );
    expect(cols.map((c) => c.table)).toEqual(['access_log', 'rejects']);
    expect((await migrate(ch)).applied).toEqual([]);
  }, 120_000);
});
