/**
 * The migrations for a ClickHouse cluster (`weblog migrate --cluster NAME`).
 * The same migration files as on one node, each statement rendered for the
 * cluster:
 * - a table T becomes T_local, ON CLUSTER, with the Replicated variant of its
 *   engine and an explicit Keeper path ({shard} and {replica} are the servers'
 *   macros), and T becomes a Distributed table over T_local: writers and
 *   reports keep using T;
 * - materialized views are created ON CLUSTER on the local tables, so each
 *   shard rolls up its own rows;
 * - ALTER TABLE ADD COLUMN changes T_local and makes the Distributed T
 *   again over it (stop the workers while migrating); ADD INDEX only T_local;
 *   the non-replicated deduplication window is left out (replicated tables
 *   deduplicate retried blocks themselves).
 * A statement of another kind cannot be rendered and stops the migration, so
 * a new migration is never applied half-clustered.
 */
import { WeblogError } from '../errors.js';
import type { ClickHouseConfig } from '../sink/clickhouse/open.js';
import { clickhouseDefaults } from '../sink/clickhouse/types.js';

export interface ClusterOptions {
  /** Cluster name from the servers' remote_servers. */
  name: string;
  database: string;
  /**
   * Keeper path of each replicated table; weblog fills {database} and
   * {table}, the servers fill {shard} (and any other macro they define).
   */
  keeperPath: string;
}

export const defaultKeeperPath = '/clickhouse/tables/{shard}/{database}/{table}';

/** Distributed sharding keys: a Kafka partition's rows all go to one shard. */
const shardingKeys: Record<string, string> = { access_log: 'kafka_partition', rejects: 'kafka_partition' };

const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkClusterOptions(o: ClusterOptions): void {
  if (!ident.test(o.name)) throw new WeblogError('CONFIG_INVALID', `--cluster: expected a cluster name (letters, digits, _), got "${o.name}"`);
  if (!o.keeperPath.startsWith('/') || !o.keeperPath.includes('{table}') || /'/.test(o.keeperPath))
    throw new WeblogError(
      'CONFIG_INVALID',
      `--keeper-path: expected an absolute path with {table} (and usually {shard}), without quotes, got "${o.keeperPath}"`,
    );
}

const local = (t: string) => `${t}_local`;

function keeperPath(o: ClusterOptions, table: string): string {
  return o.keeperPath.replace(/\{database\}/g, o.database).replace(/\{table\}/g, table);
}

/** ENGINE = XMergeTree[()] → ENGINE = ReplicatedXMergeTree('path', '{replica}'). */
function replicatedEngine(stmt: string, o: ClusterOptions, table: string): string {
  const re = /ENGINE\s*=\s*(\w*MergeTree)(\s*\(\s*\))?/;
  const m = re.exec(stmt);
  if (!m) throw new WeblogError('SCHEMA_MISMATCH', `cannot render for a cluster: no MergeTree engine in "${stmt.slice(0, 120)}..."`);
  const engine = m[1] as string;
  if (engine.startsWith('Replicated')) throw new WeblogError('SCHEMA_MISMATCH', `cannot render for a cluster: ${table} is already replicated`);
  return stmt.replace(re, `ENGINE = Replicated${engine}('${keeperPath(o, local(table))}', '{replica}')`);
}

/** Renders one statement of a migration for the cluster; `tables` collects the tables created so far (their names get _local in views). */
export function clusterStatements(stmt: string, o: ClusterOptions, tables: Set<string>): string[] {
  const on = `ON CLUSTER ${o.name}`;
  // Distributed DDL runs in each server's default database: every name is qualified.
  const q = (name: string) => `${o.database}.${name}`;
  let m = /^CREATE TABLE IF NOT EXISTS (\w+)\s+AS\s+(\w+)\s+(ENGINE[\s\S]*)$/.exec(stmt);
  if (m) {
    const [, t, like, rest] = m as unknown as [string, string, string, string];
    tables.add(t);
    return [
      replicatedEngine(`CREATE TABLE IF NOT EXISTS ${q(local(t))} ${on} AS ${q(tables.has(like) ? local(like) : like)} ${rest}`, o, t),
      distributed(t, o),
    ];
  }
  m = /^CREATE TABLE IF NOT EXISTS (\w+)\s*(\([\s\S]*)$/.exec(stmt);
  if (m) {
    const [, t, rest] = m as unknown as [string, string, string];
    tables.add(t);
    return [replicatedEngine(`CREATE TABLE IF NOT EXISTS ${q(local(t))} ${on} ${rest}`, o, t), distributed(t, o)];
  }
  m = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+)\s+TO\s+(\w+)\s+AS\s+([\s\S]*)$/.exec(stmt);
  if (m) {
    const [, view, target, select] = m as unknown as [string, string, string, string];
    if (!tables.has(target))
      throw new WeblogError('SCHEMA_MISMATCH', `cannot render for a cluster: view ${view} writes to ${target}, which weblog did not create`);
    const from = select.replace(/\bFROM\s+(\w+)\b/g, (all, t: string) => (tables.has(t) ? `FROM ${q(local(t))}` : all));
    return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${q(view)} ${on} TO ${q(local(target))} AS ${from}`];
  }
  m = /^ALTER TABLE (\w+)\s+(ADD COLUMN[\s\S]*)$/.exec(stmt);
  if (m) {
    const [, t, rest] = m as unknown as [string, string, string];
    // The replicated table takes the ALTER once per shard; a Distributed table cannot be altered ON CLUSTER
    // when shards are replicated, so it is made again over the changed local table.
    return [`ALTER TABLE ${q(local(t))} ${on} ${rest}`, `DROP TABLE IF EXISTS ${q(t)} ${on}`, distributed(t, o)];
  }
  m = /^ALTER TABLE (\w+)\s+(ADD INDEX[\s\S]*)$/.exec(stmt);
  if (m) {
    const [, t, rest] = m as unknown as [string, string, string];
    return [`ALTER TABLE ${q(local(t))} ${on} ${rest}`];
  }
  if (/^ALTER TABLE \w+\s+MODIFY SETTING non_replicated_deduplication_window\b/.test(stmt)) return [];
  throw new WeblogError('SCHEMA_MISMATCH', `cannot render for a cluster: a statement weblog does not know how to distribute: "${stmt.slice(0, 160)}"`);
}

function distributed(t: string, o: ClusterOptions): string {
  // Rollups are written by the views on each shard, never through the Distributed table: no sharding key needed.
  const key = shardingKeys[t];
  return `CREATE TABLE IF NOT EXISTS ${o.database}.${t} ON CLUSTER ${o.name} AS ${o.database}.${local(t)} ENGINE = Distributed(${o.name}, ${o.database}, ${local(t)}${key ? `, ${key}` : ''})`;
}

/** The migration history: replicated on every node of every shard (no {shard} in its path), so each node sees it. */
export function clusterHistoryTable(o: ClusterOptions): string {
  const path = o.keeperPath.includes('{shard}') ? `/clickhouse/weblog/${o.database}/schema_migrations` : keeperPath(o, 'schema_migrations');
  return `CREATE TABLE IF NOT EXISTS ${o.database}.schema_migrations ON CLUSTER ${o.name} (version UInt32, name String, checksum String, applied_at DateTime DEFAULT now()) ENGINE = ReplicatedMergeTree('${path}', '{replica}') ORDER BY version`;
}

/** The cluster part of a ClickHouse config, as migrations take it. */
export function migrationCluster(cfg: ClickHouseConfig): ClusterOptions | undefined {
  return cfg.cluster ? { name: cfg.cluster.name, keeperPath: cfg.cluster.keeperPath, database: cfg.database ?? clickhouseDefaults.database } : undefined;
}
