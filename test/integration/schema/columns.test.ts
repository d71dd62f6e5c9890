/**
 * The column table (src/sink/columns.ts) against the schema the migrations
 * create: every column of the table exists with its type, in each dialect,
 * on chdb (modern) and on the ClickHouse server (its dialect); every column
 * of the schema the table lacks is filled by the server (a DEFAULT).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/schema/migrate.js';
import { accessLogTable, columnsOf } from '../../../src/sink/columns.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import type { ClickHouse } from '../../../src/sink/clickhouse/types.js';
import { serverDatabase, serverTargets } from '../../helpers/clickhouse.js';
import { tempDir, uniqueName } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** access_log as the server describes it: name -> type and whether the server fills it. */
async function described(ch: ClickHouse): Promise<Map<string, { type: string; defaulted: boolean }>> {
  const rows = await ch.query<{ name: string; type: string; default_kind: string }>(
    `SELECT name, type, default_kind FROM system.columns WHERE database = currentDatabase() AND table = 'access_log'`, // (18.16 has no `position`)
  );
  return new Map(rows.map((r) => [r.name, { type: r.type, defaulted: r.default_kind !== '' }]));
}

function check(schema: Map<string, { type: string; defaulted: boolean }>, dialect: 'modern' | 'legacy'): void {
  const table = columnsOf(dialect);
  expect(table.map((c) => [c.name, schema.get(c.name)?.type])).toEqual(table.map((c) => [c.name, c.type[dialect]]));
  const extra = [...schema].filter(([name]) => !table.some((c) => c.name === name));
  expect(
    extra.filter(([, c]) => !c.defaulted).map(([n]) => n),
    'schema columns the rows leave out must have a DEFAULT',
  ).toEqual([]);
}

describe('the column table is the migrated schema', () => {
  it('on chdb (modern schema)', async () => {
    const ch = new EmbeddedClickHouse({ dir: tempDir('weblog-columns-', cleanups), database: uniqueName('cols') });
    cleanups.push(() => ch.close());
    await migrate(ch);
    check(await described(ch), 'modern');
    expect(accessLogTable.filter((c) => c.type.legacy === undefined).map((c) => c.name)).toEqual(['extra', 'bot_category', 'bot_claim', 'bot_verified']);
  });

  it.each(serverTargets())('on $label (its dialect)', async ({ url, dialect }) => {
    const ch = await serverDatabase('cols', cleanups, { url });
    await ch.detect();
    expect(ch.dialect).toBe(dialect);
    check(await described(ch), ch.dialect);
  });
});
