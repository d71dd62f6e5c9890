/**
 * Numbered SQL migrations (clickhouse-schema/migrations/NNNN_name.sql).
 * Applied in order, each recorded with its checksum in `schema_migrations`;
 * running again applies only what is new. A database whose recorded history
 * differs from the files (edited file, unknown newer migration) is refused.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeblogError } from '../errors.js';
import { checkClusterOptions, clusterHistoryTable, clusterStatements, type ClusterOptions } from './cluster.js';
import { clickhouseCode, isUserRefusal } from '../sink/clickhouse/errors.js';
import { sqlIdentifier } from '../sink/clickhouse/sql.js';
import { MIN_SERVER_VERSION, type ClickHouse } from '../sink/clickhouse/types.js';

export const defaultMigrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'clickhouse-schema', 'migrations');
/** The test schema for Debian's ClickHouse 18.16 (same column names, old types). */
export const legacyMigrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'clickhouse-schema', 'legacy-18.16');

/** "22.8.1.1" >= "22.8": compares numerically, part by part. */
export function versionAtLeast(version: string, min: string): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (Number.isNaN(x)) return false;
    if (x !== y) return x > y;
  }
  return true;
}

/**
 * The migrations folder for this server: weblog's schema on 22.8 or newer,
 * the legacy test schema on 18.x; servers in between cannot hold either and
 * are refused, naming the version (they failed on a raw CODEC syntax error).
 */
export async function migrationsDirFor(ch: ClickHouse): Promise<string> {
  await ch.detect();
  if (ch.dialect === 'legacy') return legacyMigrationsDir;
  if (ch.version && !versionAtLeast(ch.version, MIN_SERVER_VERSION)) {
    throw new WeblogError('SERVER_TOO_OLD', `${ch.describe()} is ClickHouse ${ch.version}; weblog's schema needs ${MIN_SERVER_VERSION} or newer`);
  }
  return defaultMigrationsDir;
}

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}

export function loadMigrations(dir = defaultMigrationsDir): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort();
  const seen = new Set<number>();
  return files.map((f) => {
    const version = Number(f.split('_')[0]);
    if (seen.has(version)) throw new WeblogError('SCHEMA_MISMATCH', `two migrations with version ${version} in ${dir}`);
    seen.add(version);
    const text = readFileSync(path.join(dir, f), 'utf8').replace(/\r\n/g, '\n');
    return {
      version,
      name: f.replace(/\.sql$/, ''),
      checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
      statements: splitStatements(text),
    };
  });
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export interface MigrateOptions {
  dir?: string | undefined;
  log?: ((msg: string) => void) | undefined;
  /** A cluster: DDL ON CLUSTER, replicated local tables, Distributed tables (see cluster.ts). */
  cluster?: ClusterOptions | undefined;
  /**
   * false: only check that the schema is up to date and refuse when it is
   * behind (workers on a cluster: only `weblog migrate` applies DDL there, so
   * replicas never race to).
   */
  apply?: boolean;
}

/**
 * Runs one migration statement so that several migrators at once (workers
 * starting together on a new database) all succeed: a CREATE ... IF NOT
 * EXISTS that lost the race to another (code 57, TABLE_ALREADY_EXISTS), and
 * an ADD COLUMN whose column another one added (code 44; 18.16 has no ADD
 * COLUMN IF NOT EXISTS), are done. Seen before: `Code: 44 Cannot add column
 * kafka_line: column with this name already exists`, exit 1, in 2 of 5
 * starts of two processors.
 */
async function applyStatement(ch: ClickHouse, stmt: string): Promise<void> {
  try {
    await ch.exec(stmt);
  } catch (err) {
    const code = clickhouseCode(err);
    if (code === 57 && /^\s*CREATE\b[^(]*\bIF\s+NOT\s+EXISTS\b/i.test(stmt)) return;
    const add = /^\s*ALTER\s+TABLE\s+([\w.`]+)\s+ADD\s+COLUMN\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?/i.exec(stmt);
    if (code === 44 && add) {
      const name = (add[1] as string).replace(/`/g, '');
      const dot = name.indexOf('.');
      const [db, table] = dot === -1 ? [ch.database, name] : [name.slice(0, dot), name.slice(dot + 1)];
      const [c] = await ch.query<{ c: string | number }>(
        'SELECT count() AS c FROM system.columns WHERE database = {db:String} AND table = {table:String} AND name = {name:String}',
        { db, table, name: add[2] as string },
      );
      if (Number(c?.c ?? 0) > 0) return;
    }
    throw err;
  }
}

/** True when the database has weblog's migration history table. */
async function historyExists(ch: ClickHouse): Promise<boolean> {
  const [t] = await ch.query<{ c: string | number }>(
    "SELECT count() AS c FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations'",
  );
  return Number(t?.c ?? 0) > 0;
}

/** DDL refused for want of a right: say that the schema is `weblog migrate`'s job, done by a user who has them. */
async function withDdlHint(ch: ClickHouse, ddl: () => Promise<void>): Promise<void> {
  try {
    await ddl();
  } catch (err) {
    if (!isUserRefusal(err)) throw err;
    throw new WeblogError(
      'REFUSED',
      `the schema in ${ch.describe()} is missing or behind, and this user may not change it: ${(err as Error).message.split(' (the rights')[0]}; run \`weblog migrate\` as a user with the migrator's rights (docs/clickhouse.md, "Users and rights")`,
      { cause: err },
    );
  }
}

/** Applies what is new; `dir` defaults to the folder for this server (migrationsDirFor). */
export async function migrate(ch: ClickHouse, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const log = opts.log ?? (() => {});
  const dir = opts.dir ?? (await migrationsDirFor(ch));
  const migrations = loadMigrations(dir);
  const cluster = opts.cluster;
  if (cluster) checkClusterOptions(cluster);
  if (opts.apply === false) {
    if (!(await historyExists(ch)))
      throw new WeblogError(
        'SCHEMA_MISMATCH',
        `${ch.describe()} has no weblog schema${cluster ? ` on cluster ${cluster.name}` : ''}: run \`weblog migrate${cluster ? ` --cluster ${cluster.name}` : ''}\` first`,
      );
  } else if (cluster || !(await historyExists(ch)))
    // Only when it is missing: a worker whose user has no DDL right (the processor role) starts on a migrated database.
    await withDdlHint(ch, () =>
      applyStatement(
        ch,
        cluster
          ? clusterHistoryTable(cluster)
          : `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, checksum String, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version`,
      ),
    );
  const recorded = await ch.query<{ version: number | string; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  for (const r of recorded) {
    const m = byVersion.get(Number(r.version));
    if (!m) {
      throw new WeblogError(
        'SCHEMA_MISMATCH',
        `${ch.describe()} has migration ${r.name} which is not among the files in ${dir}: is it managed by a newer weblog?`,
      );
    }
    if (m.checksum !== r.checksum || m.name !== r.name) {
      throw new WeblogError(
        'SCHEMA_MISMATCH',
        `migration ${m.name} was applied to ${ch.describe()} with checksum ${r.checksum}, but the file now has ${m.checksum}: write a new migration instead of editing an applied one`,
      );
    }
  }
  const done = new Set(recorded.map((r) => Number(r.version)));
  const result: MigrateResult = { applied: [], alreadyApplied: migrations.filter((m) => done.has(m.version)).map((m) => m.name) };
  const missing = migrations.filter((m) => !done.has(m.version));
  if (opts.apply === false) {
    if (missing.length > 0)
      throw new WeblogError(
        'SCHEMA_MISMATCH',
        `the schema in ${ch.describe()}${cluster ? ` (cluster ${cluster.name})` : ''} is behind this weblog: ${missing.map((m) => m.name).join(', ')} not applied; run \`weblog migrate${cluster ? ` --cluster ${cluster.name}` : ''}\` (workers on a cluster never migrate it themselves)`,
      );
    return result;
  }
  // Tables created by the migrations applied before (a view of a later migration may read them).
  const tables = new Set<string>();
  const render = (stmt: string) => (cluster ? clusterStatements(stmt, cluster, tables) : [stmt]);
  for (const m of migrations) if (done.has(m.version)) for (const stmt of m.statements) render(stmt);
  for (const m of missing) {
    const statements = m.statements.flatMap(render);
    log(`applying ${m.name} (${statements.length} statements${cluster ? ` on cluster ${cluster.name}` : ''})`);
    await withDdlHint(ch, async () => {
      for (const stmt of statements) await applyStatement(ch, stmt);
    });
    // Another migrator may have finished this one meanwhile: record it once.
    const [again] = await ch.query<{ c: string | number }>(`SELECT count() AS c FROM schema_migrations WHERE version = ${m.version}`);
    if (Number(again?.c ?? 0) === 0)
      await ch.exec('INSERT INTO schema_migrations (version, name, checksum) SELECT {version:UInt32}, {name:String}, {checksum:String}', {
        version: m.version,
        name: m.name,
        checksum: m.checksum,
      });
    result.applied.push(m.name);
  }
  return result;
}

/** `weblog run --reset`: the database dropped and created empty (the migrations then apply from the start). */
export async function recreateDatabase(ch: ClickHouse): Promise<void> {
  await ch.exec(`DROP DATABASE IF EXISTS ${sqlIdentifier(ch.database)}`);
  await ch.exec(`CREATE DATABASE ${sqlIdentifier(ch.database)}`);
}
