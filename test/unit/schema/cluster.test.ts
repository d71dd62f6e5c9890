import { describe, expect, it } from 'vitest';
import { clusterHistoryTable, clusterStatements, defaultKeeperPath, type ClusterOptions } from '../../../src/schema/cluster.js';
import { defaultMigrationsDir, legacyMigrationsDir, loadMigrations } from '../../../src/schema/migrate.js';

const o: ClusterOptions = { name: 'weblog', database: 'logs', keeperPath: defaultKeeperPath };

function renderAll(dir: string): string[] {
  const tables = new Set<string>();
  return loadMigrations(dir).flatMap((m) => m.statements.flatMap((s) => clusterStatements(s, o, tables)));
}

describe.each([
  ['modern', defaultMigrationsDir],
  ['legacy 18.16', legacyMigrationsDir],
])('the %s migrations on a cluster', (_name, dir) => {
  const out = renderAll(dir);

  it('every statement runs ON CLUSTER', () => {
    for (const s of out)
      expect(s, s.slice(0, 80)).toMatch(
        /^(CREATE TABLE IF NOT EXISTS logs\.\w+|CREATE MATERIALIZED VIEW IF NOT EXISTS logs\.\w+|ALTER TABLE logs\.\w+|DROP TABLE IF EXISTS logs\.\w+) ON CLUSTER weblog( |$)/,
      );
  });

  it('each table is a replicated local table with its own Keeper path under a Distributed table of the same name', () => {
    const locals = out.filter((s) => /^CREATE TABLE IF NOT EXISTS logs\.\w+_local /.test(s));
    expect(locals.length).toBeGreaterThanOrEqual(2);
    const paths = new Set<string>();
    for (const s of locals) {
      const t = /^CREATE TABLE IF NOT EXISTS logs\.(\w+)_local/.exec(s)?.[1] as string;
      const m = /ENGINE = Replicated(\w*)MergeTree\('([^']+)', '\{replica\}'\)/.exec(s);
      expect(m, t).not.toBeNull();
      expect(m?.[2]).toBe(`/clickhouse/tables/{shard}/logs/${t}_local`);
      paths.add(m?.[2] as string);
      expect(out).toContain(
        `CREATE TABLE IF NOT EXISTS logs.${t} ON CLUSTER weblog AS logs.${t}_local ENGINE = Distributed(weblog, logs, ${t}_local${t === 'access_log' || t === 'rejects' ? ', kafka_partition' : ''})`,
      );
    }
    expect(paths.size).toBe(locals.length);
  });

  it('views read and write local tables only; no plain MergeTree and no non-replicated setting is left', () => {
    for (const s of out.filter((x) => x.startsWith('CREATE MATERIALIZED VIEW'))) {
      expect(s).toMatch(/ TO logs\.\w+_local AS /);
      for (const m of s.matchAll(/\bFROM ([\w.]+)/g)) expect(m[1], s.slice(0, 80)).toMatch(/^logs\.\w+_local$/);
    }
    expect(out.join('\n')).not.toMatch(/ENGINE = (Aggregating)?MergeTree\b/);
    expect(out.join('\n')).not.toMatch(/non_replicated_deduplication_window/);
  });

  it('new columns reach the local tables, and the Distributed tables are made again over them', () => {
    const adds = out.filter((s) => /ADD COLUMN (IF NOT EXISTS )?kafka_line/.test(s));
    expect(adds.map((s) => /^ALTER TABLE ([\w.]+)/.exec(s)?.[1]).sort()).toEqual(['logs.access_log_local', 'logs.rejects_local']);
    for (const t of ['access_log', 'rejects']) {
      const i = out.findIndex((s) => s.startsWith(`ALTER TABLE logs.${t}_local ON CLUSTER weblog ADD COLUMN`));
      expect(out[i + 1]).toBe(`DROP TABLE IF EXISTS logs.${t} ON CLUSTER weblog`);
      expect(out[i + 2]).toMatch(new RegExp(`^CREATE TABLE IF NOT EXISTS logs\\.${t} ON CLUSTER weblog AS logs\\.${t}_local ENGINE = Distributed`));
    }
  });
});

describe('cluster rendering', () => {
  it('the modern rollups are replicated aggregating tables', () => {
    const out = renderAll(defaultMigrationsDir);
    expect(out.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS logs.traffic_hourly_local'))).toMatch(/ENGINE = ReplicatedAggregatingMergeTree\(/);
    expect(out.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS logs.traffic_monthly_local'))).toMatch(
      /AS logs\.traffic_hourly_local ENGINE = ReplicatedAggregatingMergeTree\(/,
    );
  });

  it('refuses a statement it cannot distribute, naming it', () => {
    expect(() => clusterStatements('DROP TABLE access_log', o, new Set())).toThrow(
      'cannot render for a cluster: a statement weblog does not know how to distribute: "DROP TABLE access_log"',
    );
  });

  it('keeps the history on every node of every shard', () => {
    expect(clusterHistoryTable(o)).toBe(
      "CREATE TABLE IF NOT EXISTS logs.schema_migrations ON CLUSTER weblog (version UInt32, name String, checksum String, applied_at DateTime DEFAULT now()) ENGINE = ReplicatedMergeTree('/clickhouse/weblog/logs/schema_migrations', '{replica}') ORDER BY version",
    );
  });
});
