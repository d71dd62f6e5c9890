/** Opening the ClickHouse a job writes to or reads from: a server over HTTP, or the embedded engine. */
import { WeblogError } from '../../errors.js';
import { EmbeddedClickHouse } from './embedded.js';
import { HttpClickHouse } from './http.js';
import type { ClickHouse } from './types.js';

export const defaultDataDir = 'weblog-data';

export interface ClickHouseConfig {
  /** Server over HTTP, e.g. http://user:pass@host:8123; default: embedded. */
  url?: string | undefined;
  /** Data folder of the embedded engine (default weblog-data). */
  embedded?: string | undefined;
  database?: string | undefined;
}

/**
 * The ClickHouse a config names. `readOnly` (reports) creates nothing: a
 * missing folder or database is NO_DATA instead of a new, empty one.
 */
export async function openClickHouse(cfg: ClickHouseConfig, { readOnly = false }: { readOnly?: boolean } = {}): Promise<ClickHouse> {
  const database = cfg.database ?? 'weblog';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new WeblogError('CONFIG_INVALID', `--database: expected letters, digits and _, got "${database}"`);
  if (cfg.url) {
    let url: URL;
    try {
      url = new URL(cfg.url);
    } catch {
      throw new WeblogError('CONFIG_INVALID', '--clickhouse: expected an http(s) URL such as http://localhost:8123');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new WeblogError('CONFIG_INVALID', `--clickhouse: expected http:// or https://, got ${url.protocol}`);
    const ch = new HttpClickHouse({ url: cfg.url, database });
    try {
      if (!readOnly) await ch.createDatabase();
      else {
        await ch.detect();
        if (!(await ch.databaseExists()))
          throw new WeblogError(
            'NO_DATA',
            `no weblog data in ${ch.describe()}: the database does not exist; run \`weblog run\` (or \`weblog process\`) first, or pass the --database it used`,
          );
      }
    } catch (err) {
      await ch.close();
      throw err;
    }
    return ch;
  }
  return new EmbeddedClickHouse({ dir: cfg.embedded ?? defaultDataDir, database, create: !readOnly });
}
