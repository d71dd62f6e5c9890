/**
 * A current ClickHouse server (26.7) without Docker: the `clickhouse local`
 * entry point of chdb's libchdb.so (the @chdb/lib-* package weblog already
 * installs) run as an HTTP and native server by `chdb-server.py`.
 *
 * What differs from a packaged server, found by trying it:
 * - users come from a users.xml named in <user_directories> (SQL CREATE USER
 *   fails: no writable access storage); `default` stays without a password;
 * - it loads ./config.xml from its working folder: it is started from its own
 *   folder with an explicit --config-file;
 * - the system database is not kept across restarts but its tables' folders
 *   are, and system.query_log then fails to flush ("Directory for table data
 *   data/system/query_log/ already exists"): they are removed before a start;
 * - the endless query that keeps it alive shows in system.processes;
 * - it cannot replicate (no Keeper in local mode): clusters stay on 18.16.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from './config.js';
import { spawnDetached } from './proc.js';

/** Oldest engine the current-server tests accept (26.6: `clickhouse local` serves HTTP and TCP). */
export const currentServerMinVersion = '26.6';

/** The keep-alive query; tests that count queries filter it out by this text. */
export const keepAliveQuery = 'SELECT sleepEachRow(1) FROM numbers(1000000000) SETTINGS max_block_size = 1 FORMAT Null';

/** libchdb.so of the installed @chdb/lib-<platform> package, or undefined. */
export function findLibchdb(): string | undefined {
  const req = createRequire(path.join(repoRoot, 'package.json'));
  const pkg = `@chdb/lib-${process.platform}-${process.arch}-gnu`;
  try {
    const dir = path.dirname(req.resolve(`${pkg}/package.json`));
    const so = path.join(dir, 'libchdb.so');
    return existsSync(so) ? so : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The least-privileged users of the tests (docs/clickhouse.md "Users and
 * rights" has the same GRANTs for a real server, on `weblog.*`). Their rights
 * cover every database whose name starts with `lp_`.
 */
export const leastPrivilegeUsers = {
  /** DDL on its databases: `weblog migrate`. */
  migrator: {
    name: 'weblog_migrator',
    password: 'migrator-secret',
    grants: [
      'GRANT CREATE DATABASE, CREATE TABLE, CREATE VIEW, ALTER TABLE, ALTER VIEW, SELECT, INSERT ON lp_*.*',
      'GRANT TABLE ENGINE ON MergeTree, TABLE ENGINE ON AggregatingMergeTree, TABLE ENGINE ON SummingMergeTree, TABLE ENGINE ON ReplacingMergeTree',
    ],
  },
  /** INSERT and SELECT on its tables and what the exactly-once rule reads: `weblog process`. */
  processor: {
    name: 'weblog_processor',
    password: 'processor-secret',
    grants: ['GRANT SELECT, INSERT ON lp_*.*', 'GRANT SELECT ON system.processes, SELECT ON system.query_log, SYSTEM FLUSH LOGS ON *.*'],
  },
  /** A processor without the query log: the deduplication tokens must carry exactly-once alone. */
  processorNoLog: {
    name: 'weblog_processor_nolog',
    password: 'processor-nolog-secret',
    grants: ['GRANT SELECT, INSERT ON lp_*.*', 'GRANT SELECT ON system.processes'],
  },
  /** A processor without even system.processes: refused with the right it lacks. */
  processorBare: {
    name: 'weblog_processor_bare',
    password: 'processor-bare-secret',
    grants: ['GRANT SELECT, INSERT ON lp_*.*'],
  },
  /** SELECT only, readonly: `weblog report`, `weblog serve`, Grafana. */
  reader: { name: 'weblog_reader', password: 'reader-secret', grants: ['GRANT SELECT ON lp_*.*'], readonly: true },
} as const;

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Writes the server's config.xml and users.xml into `dir`; returns the config's path. */
export function writeCurrentServerConfig(dir: string, dataDir: string): string {
  const users = Object.values(leastPrivilegeUsers)
    .map(
      (u) =>
        `    <${u.name}><password>${u.password}</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>` +
        `<profile>${'readonly' in u && u.readonly ? 'readonly' : 'default'}</profile><quota>default</quota>` +
        `<grants>${u.grants.map((g) => `<query>${xmlEscape(g)}</query>`).join('')}</grants></${u.name}>`,
    )
    .join('\n');
  writeFileSync(
    path.join(dir, 'users.xml'),
    `<clickhouse>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>
${users}
  </users>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default><readonly><readonly>1</readonly></readonly></profiles>
  <quotas><default></default></quotas>
</clickhouse>
`,
  );
  const config = path.join(dir, 'config.xml');
  writeFileSync(
    config,
    `<clickhouse>
  <logger><level>error</level><log>${dir}/clickhouse.log</log><errorlog>${dir}/clickhouse.err.log</errorlog><size>50M</size><count>2</count></logger>
  <timezone>UTC</timezone>
  <path>${dataDir}/</path>
  <query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>
  <user_directories><users_xml><path>${path.join(dir, 'users.xml')}</path></users_xml></user_directories>
</clickhouse>
`,
  );
  return config;
}

export interface CurrentServerFiles {
  dir: string;
  dataDir: string;
  logFile: string;
  pidFile: string;
}

/** Writes the configuration and starts the server detached (see proc.ts); returns its PID. */
export function launchCurrentServer(f: CurrentServerFiles, httpPort: number, tcpPort: number): number {
  const lib = findLibchdb();
  if (!lib) throw new Error('libchdb.so not found: npm install brings it with the chdb package (@chdb/lib-<platform>)');
  mkdirSync(f.dataDir, { recursive: true });
  const config = writeCurrentServerConfig(f.dir, f.dataDir);
  dropSystemTableFolders(f.dataDir);
  return spawnDetached({
    command: 'python3',
    args: currentServerArgs(lib, f.dataDir, config, httpPort, tcpPort),
    cwd: f.dir,
    logFile: f.logFile,
    pidFile: f.pidFile,
  });
}

/** Its system tables are not kept across a restart but their folders are, and the query log then fails to flush: they go before a start. */
export function dropSystemTableFolders(dataDir: string): void {
  for (const sub of ['data/system', 'metadata/system', 'metadata/system.sql']) rmSync(path.join(dataDir, sub), { recursive: true, force: true });
}

/** The launcher's command line (also used by tests that own their server process). */
export function currentServerArgs(lib: string, dataDir: string, config: string, httpPort: number, tcpPort: number): string[] {
  return [
    path.join(repoRoot, 'test', 'stack', 'chdb-server.py'),
    lib,
    '--log-level=error',
    `--path=${dataDir}`,
    `--config-file=${config}`,
    `--http_port=${httpPort}`,
    `--tcp_port=${tcpPort}`,
    '--listen_host=127.0.0.1',
    `--query=SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; ${keepAliveQuery}`,
  ];
}
