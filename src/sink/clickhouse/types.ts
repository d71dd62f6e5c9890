/**
 * What weblog needs from ClickHouse, whichever way it is reached: a server
 * over HTTP (@clickhouse/client) or the embedded engine (chdb).
 */

export type QueryParams = Record<string, string | number | boolean>;

export interface ClickHouse {
  /** 'http' or 'embedded'. */
  readonly kind: 'http' | 'embedded';
  /** The database every statement runs in. */
  readonly database: string;
  /** Where the data lives, for messages; never contains a password. */
  describe(): string;
  /** Runs one statement that returns no rows (DDL, INSERT ... SELECT). */
  exec(sql: string): Promise<void>;
  /** Runs one SELECT with `{name:Type}` parameters bound server-side; rows as objects. */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /**
   * Inserts newline-delimited JSON rows. With `dedupToken`, a retry of the
   * same block is dropped by the server (insert_deduplication_token) where the
   * table supports it.
   */
  insertJson(table: string, ndjson: string, opts?: { dedupToken?: string }): Promise<void>;
  /**
   * Inserts TabSeparated rows (newline-terminated) into the given columns, in
   * that order; the body is sent as is, without a copy. `dedupToken` as for
   * insertJson.
   */
  insertTsv(table: string, columns: readonly string[], tsv: Buffer, opts?: { dedupToken?: string }): Promise<void>;
  close(): Promise<void>;
}
