/**
 * What weblog needs from ClickHouse, whichever way it is reached: a server
 * over HTTP (@clickhouse/client) or the embedded engine (chdb).
 */

/** The ClickHouse side's defaults, in one place. */
export const clickhouseDefaults = { database: 'weblog', dataDir: 'weblog-data' } as const;

export type QueryParams = Record<string, string | number | boolean | readonly (string | number)[]>;

/** A result with its columns' ClickHouse types (the `meta` of the JSON format). */
export interface QueryTable {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
}

/** A row format for inserts, named as ClickHouse names it. */
export type RowFormat = 'TabSeparated' | 'RowBinary';

export interface InsertOptions {
  /**
   * With it, a retry of the same block is dropped by the server
   * (insert_deduplication_token) where the table supports it.
   */
  dedupToken?: string;
  /** What the rows belong to (e.g. a topic-partition), so settle(scope) can wait for them. */
  scope?: string;
  /**
   * The type each column's values were written as (LowCardinality columns as
   * String): read so, then converted a block at a time to the table's types.
   * Needed for RowBinary over HTTP (input()); the embedded engine uses them
   * for text too (read with file()); text over HTTP ignores them.
   */
  types?: readonly string[];
}

/**
 * 'modern': weblog's schema (ClickHouse 22.8 or newer); 'legacy': Debian's
 * ClickHouse 18.16 used as a test server, with clickhouse-schema/legacy-18.16.
 */
export type Dialect = 'modern' | 'legacy';

/** Oldest server weblog's schema and reports run on (window functions, lagInFrame, query parameters, migration 0003's settings). */
export const MIN_SERVER_VERSION = '22.8';

export interface ClickHouse {
  /** 'http' or 'embedded'. */
  readonly kind: 'http' | 'embedded';
  /** Which schema this server takes; known after detect(). */
  readonly dialect: Dialect;
  /** The server's version ('' before detect()). */
  readonly version: string;
  /** Learns the server's version once (later calls return at once). */
  detect(): Promise<void>;
  /** The server's time zone ('UTC' for the embedded engine), known after detect(): where a DateTime without a zone has its month. */
  readonly timezone: string;
  /** The database every statement runs in. */
  readonly database: string;
  /** Where the data lives, for messages; never contains a password. */
  describe(): string;
  /** Runs one statement that returns no rows (DDL, INSERT ... SELECT), with `{name:Type}` parameters bound. */
  exec(sql: string, params?: QueryParams): Promise<void>;
  /** Runs one SELECT with `{name:Type}` parameters bound server-side; rows as objects. */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /** Like query(), with each result column's name and ClickHouse type, in order (also when no row comes back). */
  queryTable(sql: string, params?: QueryParams): Promise<QueryTable>;
  /** Inserts newline-delimited JSON rows. */
  insertJson(table: string, ndjson: string, opts?: InsertOptions): Promise<void>;
  /** The row formats insertRows() takes here, the cheapest first (known after detect()). */
  readonly rowFormats: readonly RowFormat[];
  /**
   * Inserts rows in `format` (TabSeparated: newline-terminated lines) into
   * the given columns, in that order; the body is sent as is, without a copy.
   */
  insertRows(table: string, columns: readonly string[], body: Buffer, format: RowFormat, opts?: InsertOptions): Promise<void>;
  /**
   * Resolves once no INSERT sent by this connection can still land (an INSERT
   * that timed out may run later on a server that hung), and, with `scope`,
   * none of another process's INSERTs of that scope is running. Call it before
   * reading back what is stored. Throws a retriable error while that is not
   * known yet.
   */
  settle(scope?: string): Promise<void>;
  close(): Promise<void>;
}
