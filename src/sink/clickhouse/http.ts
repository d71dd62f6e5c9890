/** ClickHouse over HTTP with @clickhouse/client. */
import { Readable } from 'node:stream';
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import type { ClickHouse, QueryParams } from './types.js';
import { wrapClickHouseError } from './errors.js';

export interface HttpOptions {
  /** Server URL, e.g. http://localhost:8123 (credentials may be in the URL). */
  url: string;
  /** Database (default 'weblog'). */
  database?: string;
  /** Per-request timeout in ms (default 30,000). */
  requestTimeoutMs?: number;
  /** Old servers (18.x) know no query parameters or insert_deduplication_token. */
  legacy?: boolean;
}

/** The URL without user:password, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

export class HttpClickHouse implements ClickHouse {
  readonly kind = 'http' as const;
  readonly database: string;
  private readonly client: ClickHouseClient;
  private readonly admin: ClickHouseClient;
  private legacy: boolean;
  /** The server's version, known after createDatabase(). */
  serverVersion = '';

  constructor(private readonly opts: HttpOptions) {
    this.database = opts.database ?? 'weblog';
    this.legacy = opts.legacy === true;
    const common = {
      url: opts.url,
      request_timeout: opts.requestTimeoutMs ?? 30_000,
      log: { level: ClickHouseLogLevel.OFF },
      // Keep-alive sockets idle longer than the server's keep_alive_timeout (3 s
      // by default) get closed under us; retrying that is the client's job.
      keep_alive: { enabled: true, idle_socket_ttl: 2500 },
    };
    this.client = createClient({ ...common, database: this.database });
    this.admin = createClient(common);
  }

  describe(): string {
    return `${redactUrl(this.opts.url)} database ${this.database}`;
  }

  /** True for servers older than 20.x (no query parameters, no insert_deduplication_token). */
  get isLegacy(): boolean {
    return this.legacy;
  }

  /** Creates the database if missing and learns the server version. */
  async createDatabase(): Promise<void> {
    try {
      const rs = await this.admin.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
      this.serverVersion = (await rs.json<{ v: string }>())[0]?.v ?? '';
      if (Number(this.serverVersion.split('.')[0]) < 20) this.legacy = true;
      await this.admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${this.database}` });
    } catch (err) {
      throw wrapClickHouseError(err, `create database ${this.database}`, 'QUERY_FAILED');
    }
  }

  async exec(sql: string): Promise<void> {
    try {
      await this.client.command({ query: sql });
    } catch (err) {
      throw wrapClickHouseError(err, 'statement failed', 'QUERY_FAILED');
    }
  }

  async query<T>(sql: string, params?: QueryParams): Promise<T[]> {
    try {
      const rs = await this.client.query({ query: sql, format: 'JSONEachRow', ...(params ? { query_params: params } : {}) });
      return await rs.json<T>();
    } catch (err) {
      throw wrapClickHouseError(err, 'query failed', 'QUERY_FAILED');
    }
  }

  async insertJson(table: string, ndjson: string, opts?: { dedupToken?: string }): Promise<void> {
    try {
      await this.client.command({
        query: `INSERT INTO ${table} FORMAT JSONEachRow\n${ndjson}`,
        clickhouse_settings: this.dedupSettings(opts?.dedupToken),
      });
    } catch (err) {
      throw wrapClickHouseError(err, `insert into ${table}`, 'INSERT_REJECTED');
    }
  }

  async insertTsv(table: string, columns: readonly string[], tsv: Buffer, opts?: { dedupToken?: string }): Promise<void> {
    try {
      await this.client.insert({
        table,
        columns: [...columns] as [string, ...string[]],
        format: 'TabSeparated',
        // A byte stream: the client refuses object-mode streams for raw formats.
        values: Readable.from([tsv], { objectMode: false }),
        clickhouse_settings: this.dedupSettings(opts?.dedupToken),
      });
    } catch (err) {
      throw wrapClickHouseError(err, `insert into ${table}`, 'INSERT_REJECTED');
    }
  }

  private dedupSettings(token: string | undefined) {
    return token && !this.legacy ? { insert_deduplication_token: token } : {};
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.admin.close()]);
  }
}
