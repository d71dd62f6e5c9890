/** A database of its own on the test ClickHouse server, migrated, dropped after the test file. */
import { inject } from 'vitest';
import { migrate } from '../../src/schema/migrate.js';
import { HttpClickHouse } from '../../src/sink/clickhouse/http.js';
import { uniqueName } from './names.js';

export async function serverDatabase(
  prefix: string,
  cleanups: (() => Promise<void>)[],
  opts: { url?: string; requestTimeoutMs?: number } = {},
): Promise<HttpClickHouse> {
  const ch = new HttpClickHouse({
    url: opts.url ?? inject('endpoints').clickhouseUrl,
    database: uniqueName(prefix),
    ...(opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
  });
  await ch.createDatabase();
  await migrate(ch); // 18.x: the legacy test schema
  cleanups.push(async () => {
    await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
    await ch.close();
  });
  return ch;
}
