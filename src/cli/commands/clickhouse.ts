/** The options that choose a ClickHouse, shared by migrate, report, process and run. */
import { WeblogError } from '../../errors.js';
import { EmbeddedClickHouse } from '../../sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../../sink/clickhouse/http.js';
import type { ClickHouse } from '../../sink/clickhouse/types.js';
import type { OptionSpec, ParsedOptions } from '../options.js';

export const defaultDataDir = 'weblog-data';

export const clickhouseOptions: OptionSpec[] = [
  { name: 'clickhouse', type: 'string', arg: 'URL', env: ['CLICKHOUSE_URL'], description: 'ClickHouse server over HTTP, e.g. http://user:pass@host:8123 (default: embedded)' },
  { name: 'embedded', type: 'string', arg: 'DIR', default: defaultDataDir, overrides: ['clickhouse'], description: 'data folder of the embedded ClickHouse (chdb), used when no --clickhouse is given (given as a flag, it beats CLICKHOUSE_URL)' },
  { name: 'database', type: 'string', default: 'weblog', arg: 'NAME', description: 'ClickHouse database' },
];

/**
 * The ClickHouse the options name. `readOnly` (reports) creates nothing: a
 * missing folder or database is NO_DATA instead of a new, empty one.
 */
export async function openClickHouse(opts: ParsedOptions, { readOnly = false }: { readOnly?: boolean } = {}): Promise<ClickHouse> {
  const database = String(opts.database ?? 'weblog');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new WeblogError('CONFIG_INVALID', `--database: expected letters, digits and _, got "${database}"`);
  if (typeof opts.clickhouse === 'string' && opts.clickhouse !== '') {
    let url: URL;
    try {
      url = new URL(opts.clickhouse);
    } catch {
      throw new WeblogError('CONFIG_INVALID', '--clickhouse: expected an http(s) URL such as http://localhost:8123');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WeblogError('CONFIG_INVALID', `--clickhouse: expected http:// or https://, got ${url.protocol}`);
    const ch = new HttpClickHouse({ url: opts.clickhouse, database });
    try {
      if (!readOnly) await ch.createDatabase();
      else {
        await ch.detect();
        if (!(await ch.databaseExists())) throw new WeblogError('NO_DATA', `no weblog data in ${ch.describe()}: the database does not exist; run \`weblog run\` (or \`weblog process\`) first, or pass the --database it used`);
      }
    } catch (err) {
      await ch.close();
      throw err;
    }
    return ch;
  }
  return new EmbeddedClickHouse({ dir: String(opts.embedded ?? defaultDataDir), database, create: !readOnly });
}
