/** Opening the ClickHouse a job writes to or reads from: a server over HTTP, or the embedded engine. */
import { WeblogError } from '../../errors.js';
import { EmbeddedClickHouse } from './embedded.js';
import { HttpClickHouse } from './http.js';
import { clickhouseDefaults, type ClickHouse } from './types.js';

export const defaultDataDir = clickhouseDefaults.dataDir;

export interface ClickHouseConfig {
  /** Server over HTTP, e.g. http://user:pass@host:8123; default: embedded. */
  url?: string | undefined;
  /** Data folder of the embedded engine (default weblog-data). */
  embedded?: string | undefined;
  database?: string | undefined;
  /** A ClickHouse cluster (server only): its name, Keeper path template and insert quorum ('auto': 2 where shards have 2+ replicas). */
  cluster?: { name: string; keeperPath: string; insertQuorum: number | 'auto' } | undefined;
  /** Longest wait for one request to a server, ms (default 30,000). */
  requestTimeoutMs?: number | undefined;
}

/**
 * The ClickHouse a config names. `readOnly` (reports) creates nothing: a
 * missing folder or database is NO_DATA instead of a new, empty one.
 */
export async function openClickHouse(cfg: ClickHouseConfig, { readOnly = false }: { readOnly?: boolean } = {}): Promise<ClickHouse> {
  const database = cfg.database ?? clickhouseDefaults.database;
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
    const timeout = cfg.requestTimeoutMs !== undefined ? { requestTimeoutMs: cfg.requestTimeoutMs } : {};
    let ch = new HttpClickHouse({ url: cfg.url, database, ...timeout });
    try {
      if (cfg.cluster) {
        const auto = await clusterQuorum(ch, cfg.cluster.name);
        const quorum = cfg.cluster.insertQuorum === 'auto' ? auto : cfg.cluster.insertQuorum;
        await ch.close();
        ch = new HttpClickHouse({ url: cfg.url, database, ...timeout, cluster: { name: cfg.cluster.name, insertQuorum: quorum } });
      }
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
  if (cfg.cluster)
    throw new WeblogError('CONFIG_INVALID', `--cluster ${cfg.cluster.name} needs a ClickHouse server (--clickhouse URL); the embedded engine is one node`);
  return new EmbeddedClickHouse({ dir: cfg.embedded ?? defaultDataDir, database, create: !readOnly });
}

/** Refuses a cluster the server does not know; else its 'auto' insert quorum: 2 when every shard has 2 or more replicas, else none (1). */
async function clusterQuorum(ch: HttpClickHouse, cluster: string): Promise<number> {
  const rows = await ch.adminQuery<{ shard: number | string; replicas: number | string }>(
    'SELECT shard_num AS shard, count() AS replicas FROM system.clusters WHERE cluster = {cluster:String} GROUP BY shard_num',
    { cluster },
  );
  if (rows.length === 0) {
    const known = await ch.adminQuery<{ cluster: string }>('SELECT DISTINCT cluster FROM system.clusters ORDER BY cluster');
    throw new WeblogError(
      'CONFIG_INVALID',
      `--cluster ${cluster}: ${ch.describe()} knows no such cluster (remote_servers); it knows: ${known.map((k) => k.cluster).join(', ') || 'none'}`,
    );
  }
  return Math.min(2, ...rows.map((r) => Number(r.replicas))) >= 2 ? 2 : 1;
}
