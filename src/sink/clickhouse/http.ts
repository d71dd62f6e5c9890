/** ClickHouse over HTTP with @clickhouse/client. */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { WeblogError } from '../../errors.js';
import { redactUrl } from '../../redact.js';
import { clickhouseDefaults, type ClickHouse, type Dialect, type InsertOptions, type QueryParams, type QueryTable, type RowFormat } from './types.js';
import { clickhouseCode, isUserRefusal, wrapClickHouseError } from './errors.js';
import { parseClickHouseJson } from './json64.js';
import { bindLiterals, sqlIdentifier, sqlString } from './sql.js';
import { pendingQuorums } from './quorum.js';
import { insertNeverRan, judge, queryLogTypeOf, type Unsettled } from './unsettled.js';

export interface HttpOptions {
  /** Server URL, e.g. http://localhost:8123 (credentials may be in the URL). */
  url: string;
  /** Database (default 'weblog'). */
  database?: string;
  /** Per-request timeout in ms (default 30,000). */
  requestTimeoutMs?: number;
  /** Old servers (18.x) know no query parameters or insert_deduplication_token. */
  legacy?: boolean;
  /**
   * How long a timed-out INSERT must leave no trace (not running, not in
   * query_log) while the server answers before it counts as never arrived, ms
   * (default 10,000). See unsettled.ts.
   */
  settleGraceMs?: number;
  /**
   * A cluster (see schema/cluster.ts): the database is created ON CLUSTER;
   * INSERTs go synchronously through the Distributed table to the shard of
   * their Kafka partition and wait for `insertQuorum` replicas (when > 1);
   * reads use select_sequential_consistency, so the offsets read back
   * include every quorum-written row.
   */
  cluster?: { name: string; insertQuorum: number } | undefined;
}

/** The HTTP client's defaults, in one place (the CLI shows them). */
export const httpDefaults = { requestTimeoutMs: 30_000 } as const;

export class HttpClickHouse implements ClickHouse {
  readonly kind = 'http' as const;
  readonly database: string;
  private readonly client: ClickHouseClient;
  private readonly admin: ClickHouseClient;
  private legacy: boolean;
  /** The server's version, known after createDatabase(). */
  serverVersion = '';
  private serverTimezone = 'UTC';
  /** INSERTs that timed out or lost their connection, by query_id (see unsettled.ts). */
  private readonly unsettled = new Map<string, Unsettled>();
  /**
   * How 64-bit integers come out of JSON (json64.ts): quoted by the server's
   * defaults ('as-is', 18.16 and servers before 25.x), by asking for it
   * ('setting'), or, for a `readonly = 1` user, by reading them exactly here ('parse').
   */
  private json64: 'as-is' | 'setting' | 'parse' = 'as-is';
  /** False once system.query_log turned out to be unreadable. */
  private queryLog = true;
  private readonly idBase = randomUUID().slice(0, 8);
  private seq = 0;

  constructor(private readonly opts: HttpOptions) {
    this.database = opts.database ?? clickhouseDefaults.database;
    this.legacy = opts.legacy === true;
    const common = {
      url: opts.url,
      request_timeout: opts.requestTimeoutMs ?? httpDefaults.requestTimeoutMs,
      log: { level: ClickHouseLogLevel.OFF },
      // Keep-alive sockets idle longer than the server's keep_alive_timeout (3 s
      // by default) get closed under us; retrying that is the client's job.
      keep_alive: { enabled: true, idle_socket_ttl: 2500 },
    };
    const quorum = (opts.cluster?.insertQuorum ?? 0) > 1;
    this.client = createClient({ ...common, database: this.database, ...(quorum ? { clickhouse_settings: { select_sequential_consistency: '1' } } : {}) });
    this.admin = createClient(common);
  }

  describe(): string {
    return `${redactUrl(this.opts.url)} database ${this.database}`;
  }

  /** True for servers older than 20.x (no query parameters, no insert_deduplication_token). */
  get isLegacy(): boolean {
    return this.legacy;
  }

  get dialect(): Dialect {
    return this.legacy ? 'legacy' : 'modern';
  }

  get version(): string {
    return this.serverVersion;
  }

  get timezone(): string {
    return this.serverTimezone;
  }

  async detect(): Promise<void> {
    if (this.serverVersion) return;
    try {
      const rs = await this.admin.query({ query: 'SELECT version() AS v, timezone() AS tz', format: 'JSONEachRow' });
      const row = (await rs.json<{ v: string; tz: string }>())[0];
      this.serverVersion = row?.v ?? '';
      this.serverTimezone = row?.tz || 'UTC';
      if (Number(this.serverVersion.split('.')[0]) < 20) this.legacy = true;
      else {
        const ws = await this.admin.query({
          query: "SELECT getSetting('readonly') AS ro, toUInt8(getSetting('output_format_json_quote_64bit_integers')) AS q",
          format: 'JSONEachRow',
        });
        const w = (await ws.json<{ ro: number | string; q: number | string }>())[0];
        this.json64 = Number(w?.q) === 1 ? 'as-is' : Number(w?.ro) === 1 ? 'parse' : 'setting';
      }
    } catch (err) {
      throw wrapClickHouseError(err, `connect to ${this.describe()}`, 'QUERY_FAILED');
    }
  }

  /**
   * A statement with its parameters as the server takes them: bound
   * server-side, or written as literals on 18.x, which has no query
   * parameters (the server's version is learnt first when not known yet).
   */
  private async bound(sql: string, params: QueryParams | undefined): Promise<{ query: string; query_params?: Record<string, unknown> }> {
    if (!params) return { query: sql };
    await this.detect();
    return this.legacy ? { query: bindLiterals(sql, params) } : { query: sql, query_params: params };
  }

  /** Creates the database if missing and learns the server version. */
  async createDatabase(): Promise<void> {
    await this.detect();
    // A worker whose user may not create databases (the processor role) starts on one that exists.
    if (!this.opts.cluster && (await this.databaseExists())) return;
    try {
      await this.admin.command({
        query: `CREATE DATABASE IF NOT EXISTS ${sqlIdentifier(this.database)}${this.opts.cluster ? ` ON CLUSTER ${sqlIdentifier(this.opts.cluster.name)}` : ''}`,
      });
    } catch (err) {
      // Another worker starting at the same moment created it between the server's check and its create.
      if (clickhouseCode(err) === 82) return;
      throw wrapClickHouseError(err, `create database ${this.database}`, 'QUERY_FAILED');
    }
  }

  /** True when the database exists (without creating it). */
  async databaseExists(): Promise<boolean> {
    const rows = await this.adminQuery<{ c: string | number }>('SELECT count() AS c FROM system.databases WHERE name = {db:String}', { db: this.database });
    return Number(rows[0]?.c ?? 0) > 0;
  }

  async exec(sql: string, params?: QueryParams): Promise<void> {
    try {
      await this.client.command(await this.bound(sql, params));
    } catch (err) {
      throw wrapClickHouseError(err, 'statement failed', 'QUERY_FAILED');
    }
  }

  async query<T>(sql: string, params?: QueryParams): Promise<T[]> {
    try {
      await this.detect();
      if (this.json64 === 'parse') return (await this.exactJson(sql, params)).data as T[];
      const rs = await this.client.query({ ...(await this.bound(sql, params)), format: 'JSONEachRow', ...this.json64Settings() });
      return await rs.json<T>();
    } catch (err) {
      throw wrapClickHouseError(err, 'query failed', 'QUERY_FAILED');
    }
  }

  async queryTable(sql: string, params?: QueryParams): Promise<QueryTable> {
    try {
      await this.detect();
      if (this.json64 === 'parse') {
        const { meta, data } = await this.exactJson(sql, params);
        return { columns: meta.map(({ name, type }) => ({ name, type })), rows: data };
      }
      const rs = await this.client.query({ ...(await this.bound(sql, params)), format: 'JSON', ...this.json64Settings() });
      const json = await rs.json<Record<string, unknown>>();
      return { columns: json.meta?.map(({ name, type }) => ({ name, type })) ?? [], rows: json.data };
    } catch (err) {
      throw wrapClickHouseError(err, 'query failed', 'QUERY_FAILED');
    }
  }

  /** 64-bit integers as strings (see json64.ts): asked of the server where the user may change settings. */
  private json64Settings(): { clickhouse_settings?: { output_format_json_quote_64bit_integers: 1 } } {
    return this.json64 === 'setting' ? { clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } } : {};
  }

  /** A readonly user's answer, read so that 64-bit integers stay exact (json64.ts). */
  private async exactJson(sql: string, params: QueryParams | undefined) {
    const rs = await this.client.query({ ...(await this.bound(sql, params)), format: 'JSON' });
    return parseClickHouseJson(await rs.text());
  }

  async insertJson(table: string, ndjson: string, opts?: InsertOptions): Promise<void> {
    await this.tracked(table, opts, (query_id, clickhouse_settings) =>
      this.client.command({ query: `INSERT INTO ${table} FORMAT JSONEachRow\n${ndjson}`, query_id, clickhouse_settings }),
    );
  }

  /** RowBinary on current servers (bench/README.md, "Insert format"); 18.16 has no input() and gains nothing from it. */
  get rowFormats(): readonly RowFormat[] {
    return this.legacy ? ['TabSeparated'] : ['RowBinary', 'TabSeparated'];
  }

  async insertRows(table: string, columns: readonly string[], body: Buffer, format: RowFormat, opts?: InsertOptions): Promise<void> {
    const types = opts?.types;
    if (format === 'RowBinary' && types?.length !== columns.length)
      throw new WeblogError('INSERT_REJECTED', `RowBinary rows into ${table} need the type of each of their ${columns.length} columns`, { retriable: false });
    await this.tracked(table, opts, async (query_id, clickhouse_settings) => {
      if (format === 'TabSeparated')
        return this.client.insert({
          table,
          columns: [...columns] as [string, ...string[]],
          format,
          // A byte stream: the client refuses object-mode streams for raw formats.
          values: Readable.from([body], { objectMode: false }),
          query_id,
          clickhouse_settings,
        });
      // Read as the types the rows were written for, then converted to the table's columns by the server, as text
      // is: a column changed since refuses (or converts) values, it never misreads the bytes. The client's insert()
      // takes no binary format; exec() sends the statement in the URL and the rows as the body.
      const structure = columns.map((c, i) => `${c} ${types?.[i] as string}`).join(', ');
      const res = await this.client.exec({
        query: `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM input(${sqlString(structure)}) FORMAT RowBinary`,
        values: Readable.from([body], { objectMode: false }),
        query_id,
        clickhouse_settings,
      });
      await finished(res.stream.resume()); // the (empty) answer, read so that the socket goes back to the pool
    });
  }

  /** Runs one INSERT under its own query_id; one whose outcome is unknown is kept until settle() knows it. */
  private async tracked(
    table: string,
    opts: InsertOptions | undefined,
    send: (queryId: string, settings: Record<string, string | number>) => Promise<unknown>,
  ): Promise<void> {
    const queryId = `weblog|${opts?.scope ?? ''}|${this.idBase}-${++this.seq}`;
    const settings: Record<string, string | number> = this.queryLog ? { log_queries: 1 } : {};
    if (opts?.dedupToken && !this.legacy) {
      settings.insert_deduplication_token = opts.dedupToken;
      // Or the views count a deduplicated block again (see migration 0005).
      settings.deduplicate_blocks_in_dependent_materialized_views = 1;
    }
    const cluster = this.opts.cluster;
    if (cluster) {
      // To the partition's shard before answering; replicas deduplicate a retried block, and with this the views' blocks too.
      settings.insert_distributed_sync = 1;
      if (cluster.insertQuorum > 1) {
        settings.insert_quorum = cluster.insertQuorum;
        // Fail (retriably) well before the request times out instead of waiting the default 10 minutes for a
        // replica that is down: an INSERT still waiting on the server would hold up every read-back (settle()).
        settings.insert_quorum_timeout = Math.max(1000, Math.floor((this.opts.requestTimeoutMs ?? httpDefaults.requestTimeoutMs) * 0.6));
      }
    }
    const sentAt = Date.now();
    try {
      await send(queryId, settings);
    } catch (err) {
      if (!insertNeverRan(err)) this.unsettled.set(queryId, { queryId, sentAt });
      throw wrapClickHouseError(err, `insert into ${table}`, 'INSERT_REJECTED');
    }
  }

  /**
   * Resolves once no INSERT of this connection can still land: each one that
   * timed out has finished or failed (it is never killed: see below), or provably never arrived;
   * with `scope`, also once no other process's INSERT of that scope is
   * running and, on a cluster with a quorum, no quorum INSERT waits for its
   * replicas. Throws a retriable UNAVAILABLE while that is not known yet.
   */
  async settle(scope?: string): Promise<void> {
    const ids = [...this.unsettled.keys()];
    if (ids.length === 0 && scope === undefined) return;
    const prefix = `weblog|${scope ?? ''}|`;
    const [view] = await this.adminQuery<{ up: number | string; running: string[]; others: number | string }>(
      `SELECT uptime() AS up, groupArrayIf(query_id, has({ids:Array(String)}, query_id)) AS running,
              ${scope === undefined ? '0' : 'countIf(startsWith(query_id, {prefix:String}) AND NOT startsWith(query_id, {ours:String}))'} AS others
       FROM system.processes`,
      { ids: ids.length ? ids : [''], prefix, ours: `${prefix}${this.idBase}-` },
    ).catch((err: unknown) => {
      // Without it no INSERT of a replica that died can be seen running: reading back would guess.
      throw isUserRefusal(err) ? this.missingRight('SELECT ON system.processes', 'to see INSERTs still running before it reads back what is stored', err) : err;
    });
    if (Number(view?.others ?? 0) > 0) throw new WeblogError('UNAVAILABLE', `waiting for another worker's INSERT into ${scope} to finish`);
    if (ids.length > 0) await this.settleOwn(ids, Number(view?.up ?? 0), new Set(view?.running ?? []));
    if (scope !== undefined && (this.opts.cluster?.insertQuorum ?? 0) > 1) await this.quorumsDone();
  }

  /** Throws UNAVAILABLE while a quorum INSERT waits for replicas: the read-back cannot see its part yet (quorum.ts). */
  private async quorumsDone(): Promise<void> {
    const pending = await pendingQuorums((sql, params) => this.adminQuery(sql, params), this.database).catch((err: unknown) => {
      throw isUserRefusal(err)
        ? this.missingRight(
            'SELECT ON system.replicas, system.zookeeper',
            'to see quorum INSERTs still waiting for replicas before it reads back what is stored',
            err,
          )
        : err;
    });
    const [first] = pending;
    if (first)
      throw new WeblogError(
        'UNAVAILABLE',
        `waiting for a quorum INSERT into ${first.table} (${first.detail}) to reach its replicas before reading back stored offsets: a replica is down or catching up`,
      );
  }

  /** Drops the INSERTs of this connection that timed out and have ended (or never arrived); throws UNAVAILABLE while any has not. */
  private async settleOwn(ids: string[], uptimeSeconds: number, running: Set<string>): Promise<void> {
    const logged = new Map<string, number[]>();
    if (this.queryLog) {
      try {
        await this.admin.command({ query: 'SYSTEM FLUSH LOGS' });
        const rows = await this.adminQuery<{ id: string; types: (number | string)[] }>(
          'SELECT query_id AS id, groupArray(type) AS types FROM system.query_log WHERE event_date >= yesterday() AND has({ids:Array(String)}, query_id) GROUP BY query_id',
          { ids },
        );
        for (const r of rows) logged.set(r.id, r.types.map(queryLogTypeOf));
      } catch (err) {
        const e = wrapClickHouseError(err, 'read query_log', 'QUERY_FAILED');
        if (e.retriable) throw e;
        // No right to read it: on a server with deduplication tokens a late INSERT of a block and its retry
        // collapse into one (the token rule), so the grace period below only bounds the wait. Without tokens
        // (18.x) that would be a guess: stop and name the right instead.
        if (e.code === 'REFUSED' && this.legacy)
          throw this.missingRight('SELECT ON system.query_log, SYSTEM FLUSH LOGS', 'to learn what became of an INSERT that timed out', err);
        this.queryLog = false; // no log on this server, or the token rule covers it
      }
    }
    const now = Date.now();
    const startedAt = now - uptimeSeconds * 1000;
    const grace = this.opts.settleGraceMs ?? 10_000;
    // One still running is waited for, never killed: a materialized view is not atomic with its table, and an
    // INSERT killed after access_log took its block but before every view did left the rollups short of rows
    // the read-back then found stored (test/integration/process/settle-running.test.ts).
    for (const u of [...this.unsettled.values()]) if (judge(u, { startedAt, running, logged }, now, grace) === 'settled') this.unsettled.delete(u.queryId);
    if (this.unsettled.size > 0) {
      throw new WeblogError(
        'UNAVAILABLE',
        `waiting for the outcome of ${this.unsettled.size} INSERT(s) that timed out (query_id ${ids[0]}) before reading back stored offsets`,
      );
    }
  }

  /** A worker stopped for want of a right, with the GRANT that gives it. */
  private missingRight(grant: string, why: string, cause: unknown): WeblogError {
    const user = decodeURIComponent(new URL(this.opts.url).username) || 'default';
    return new WeblogError('REFUSED', `ClickHouse user ${user} needs ${grant} ${why} (exactly once): GRANT ${grant} TO ${user}`, { cause });
  }

  async adminQuery<T>(sql: string, params?: QueryParams): Promise<T[]> {
    try {
      const rs = await this.admin.query({ ...(await this.bound(sql, params)), format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw wrapClickHouseError(err, 'query failed', 'QUERY_FAILED');
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.admin.close()]);
  }
}
