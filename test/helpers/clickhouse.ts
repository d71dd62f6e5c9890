/** The ClickHouse servers the tests run on, and a database of its own on one, migrated, dropped after the test file. */
import { inject } from 'vitest';
import { migrate } from '../../src/schema/migrate.js';
import { HttpClickHouse } from '../../src/sink/clickhouse/http.js';
import { uniqueName } from './names.js';

/** One ClickHouse server of the test stack. */
export interface ServerTarget {
  /** For test titles: 'ClickHouse 18.16' or 'the current ClickHouse server'. */
  label: string;
  url: string;
  /** Which schema it takes ('legacy': 18.16's test schema). */
  dialect: 'legacy' | 'modern';
}

/**
 * Every server suite runs on each of these: Debian's 18.16 (legacy schema)
 * and a current server (modern schema; the stack's 26.7, or CLICKHOUSE_CURRENT_URL).
 */
export function serverTargets(): ServerTarget[] {
  const e = inject('endpoints');
  const out: ServerTarget[] = [{ label: 'ClickHouse 18.16', url: e.clickhouseUrl, dialect: 'legacy' }];
  if (e.clickhouseCurrentUrl) out.push({ label: 'the current ClickHouse server', url: e.clickhouseCurrentUrl, dialect: 'modern' });
  return out;
}

/** The current server's target (the stack always has one; a test needing it fails when it is missing). */
export function currentTarget(): ServerTarget {
  const t = serverTargets().find((s) => s.dialect === 'modern');
  if (!t) throw new Error('no current ClickHouse server: the test stack starts one (npm run stack -- up), or set CLICKHOUSE_CURRENT_URL');
  return t;
}

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
  await migrate(ch); // the folder follows the server: legacy on 18.16, modern on a current server
  cleanups.push(async () => {
    await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
    await ch.close();
  });
  return ch;
}

/** A server URL with a user's credentials (the least-privileged users of test/stack/clickhouse-current.ts). */
export function withUser(url: string, user: { name: string; password: string }): string {
  const u = new URL(url);
  u.username = user.name;
  u.password = user.password;
  return u.toString().replace(/\/$/, '');
}
