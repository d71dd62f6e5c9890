/**
 * The embedded ClickHouse engine (chdb) in a local data folder: the modern
 * engine with no server to run. One Session per folder per process.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Chdb from 'chdb';
import type { Session } from 'chdb';
import { WeblogError } from '../../errors.js';
import { sqlIdentifier, sqlString } from './sql.js';
import { clickhouseDefaults, type ClickHouse, type InsertOptions, type QueryParams, type QueryTable, type RowFormat } from './types.js';

export interface EmbeddedOptions {
  /** Data folder (created if missing, unless `create` is false). */
  dir: string;
  /** Database (default 'weblog'). */
  database?: string;
  /** Create the folder and the database when missing (default true); false: read-only use, such as reports. */
  create?: boolean;
}

/**
 * chdb maps libchdb.so (about 160 MB of RSS, measured) when it is first
 * required: it is loaded here, by the first process that opens a folder,
 * so a worker talking to a server over HTTP never pays for it (a static
 * import made every `weblog process --clickhouse` carry it).
 */
const loadChdb = (): typeof Chdb => createRequire(import.meta.url)('chdb') as typeof Chdb;

function wrap(err: unknown, what: string, code: 'INSERT_REJECTED' | 'QUERY_FAILED'): WeblogError {
  const msg = err instanceof Error ? err.message : String(err);
  return new WeblogError(code, `${what}: ${msg.split('\n')[0]?.slice(0, 500)}`, { cause: err });
}

/**
 * chdb allows one data folder per process, with one current database. All
 * EmbeddedClickHouse instances of a folder share its Session; operations are
 * serialised and each switches to its own database first.
 */
interface Shared {
  session: Session;
  dir: string;
  refs: number;
  current: string;
  tail: Promise<unknown>;
  /** Row files written so far (see EmbeddedClickHouse.insertFromFile). */
  spooled: number;
}

let shared: Shared | undefined;

/** The folder, inside the data folder, of rows on their way into chdb (EmbeddedClickHouse.insertFromFile). */
const spoolDir = '.weblog-rows';

/** An INSERT's deduplication settings: in the views too, or they count a retried block again (see migration 0005). */
function dedupSettings(token: string | undefined): Record<string, string | number> {
  return token ? { insert_deduplication_token: token, deduplicate_blocks_in_dependent_materialized_views: 1 } : {};
}

/** The embedded data folder this process holds open, if any (tests check every job closes it). */
export function openEmbeddedFolder(): string | undefined {
  return shared && shared.refs > 0 ? shared.dir : undefined;
}

function acquire(dir: string, create: boolean): Shared {
  const abs = path.resolve(dir);
  if (shared && shared.refs > 0) {
    if (shared.dir !== abs)
      throw new WeblogError('CONFIG_INVALID', `the embedded ClickHouse is already open on ${shared.dir}; one data folder per process (chdb)`);
    shared.refs++;
    return shared;
  }
  if (create) mkdirSync(abs, { recursive: true });
  else if (!existsSync(abs))
    throw new WeblogError(
      'NO_DATA',
      `no weblog data in ${abs}: the folder does not exist; run \`weblog run\` first, or point --embedded at the data folder (or --clickhouse at a server)`,
    );
  // Quote UInt64 in JSON output like a server does, so ids keep all 64 bits in JS.
  let session: Session;
  try {
    session = new (loadChdb().Session)(abs, { connectionArgs: ['--output_format_json_quote_64bit_integers=1'] });
  } catch (err) {
    // chdb locks the folder (its status file) for the process that opened it; chdb's errors carry no code, only this text.
    if (/Failed to create connection|Cannot lock file|already running/i.test(err instanceof Error ? err.message : String(err)))
      throw new WeblogError(
        'UNAVAILABLE',
        `the embedded data folder ${abs} is open in another process (a weblog run, process or serve?); chdb opens a folder in one process at a time: stop that process, watch a run live with its --serve, or use a ClickHouse server (--clickhouse)`,
        { cause: err, retriable: false },
      );
    throw err;
  }
  // Row files a killed process left (this process holds the folder now).
  if (create) rmSync(path.join(abs, spoolDir), { recursive: true, force: true });
  shared = { session, dir: abs, refs: 1, current: '', tail: Promise.resolve(), spooled: 0 };
  return shared;
}

export class EmbeddedClickHouse implements ClickHouse {
  readonly kind = 'embedded' as const;
  readonly dialect = 'modern' as const;
  readonly database: string;
  version = '';
  readonly timezone = 'UTC';
  private readonly s: Shared;
  /** The data folder's path has none of file()'s glob characters, so row files can be read with file(). */
  private readonly fileReadable: boolean;
  private closed = false;

  constructor(private readonly opts: EmbeddedOptions) {
    this.database = opts.database ?? clickhouseDefaults.database;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(this.database))
      throw new WeblogError('CONFIG_INVALID', `database name "${this.database}" must be letters, digits and _`);
    this.s = acquire(opts.dir, opts.create !== false);
    this.fileReadable = !/[*?{}]/.test(this.s.dir); // file() reads a path with these as a pattern of several files
    this.rowFormats = this.fileReadable ? ['RowBinary', 'TabSeparated'] : ['TabSeparated'];
    if (opts.create !== false) this.s.session.query(`CREATE DATABASE IF NOT EXISTS ${this.database}`);
    else if (!this.s.session.query(`SELECT name FROM system.databases WHERE name = '${this.database}'`, 'TSV').includes(this.database)) {
      this.s.refs--;
      throw new WeblogError(
        'NO_DATA',
        `no weblog data in ${this.s.dir}: it has no database ${this.database}; run \`weblog run\` first, or pass the --database it used`,
      );
    }
  }

  async detect(): Promise<void> {
    if (this.version) return;
    const [row] = await this.query<{ v: string }>('SELECT version() AS v');
    this.version = row?.v ?? '';
  }

  describe(): string {
    return `embedded ClickHouse (chdb) in ${this.s.dir}, database ${this.database}`;
  }

  /** Runs `fn` after every earlier operation, in this instance's database. */
  private run<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new WeblogError('ABORTED', 'the embedded ClickHouse is closed'));
    const s = this.s;
    const next = s.tail.then(async () => {
      if (s.current !== this.database) {
        await s.session.queryAsync(`USE ${this.database}`, { format: 'TSV' });
        s.current = this.database;
      }
      return fn(s.session);
    });
    s.tail = next.catch(() => undefined);
    return next;
  }

  async exec(sql: string, params?: QueryParams): Promise<void> {
    try {
      await this.run((session) => (params ? session.queryBindAsync(sql, params, { format: 'TSV' }) : session.queryAsync(sql, { format: 'TSV' })));
    } catch (err) {
      throw wrap(err, 'statement failed', 'QUERY_FAILED');
    }
  }

  async query<T>(sql: string, params?: QueryParams): Promise<T[]> {
    try {
      const res = await this.run((session) =>
        params ? session.queryBindAsync(sql, params, { format: 'JSONEachRow' }) : session.queryAsync(sql, { format: 'JSONEachRow' }),
      );
      const text = res.text();
      return text === ''
        ? []
        : text
            .trimEnd()
            .split('\n')
            .map((l) => JSON.parse(l) as T);
    } catch (err) {
      throw wrap(err, 'query failed', 'QUERY_FAILED');
    }
  }

  async queryTable(sql: string, params?: QueryParams): Promise<QueryTable> {
    try {
      const res = await this.run((session) => (params ? session.queryBindAsync(sql, params, { format: 'JSON' }) : session.queryAsync(sql, { format: 'JSON' })));
      const json = JSON.parse(res.text()) as { meta: QueryTable['columns']; data: QueryTable['rows'] };
      return { columns: json.meta.map(({ name, type }) => ({ name, type })), rows: json.data };
    } catch (err) {
      throw wrap(err, 'query failed', 'QUERY_FAILED');
    }
  }

  insertJson(table: string, ndjson: string, opts?: InsertOptions): Promise<void> {
    return this.insertRaw(table, 'JSONEachRow', Buffer.from(ndjson), undefined, opts?.dedupToken);
  }

  /**
   * RowBinary first: chdb reads it from a row file (insertFromFile) for less CPU than text. Its raw insert call
   * takes text formats only, so a data folder whose path has file()'s glob characters takes TabSeparated.
   */
  readonly rowFormats: readonly RowFormat[];

  async insertRows(table: string, columns: readonly string[], body: Buffer, format: RowFormat, opts?: InsertOptions): Promise<void> {
    if (!this.rowFormats.includes(format))
      throw new WeblogError('INSERT_REJECTED', `the embedded engine in ${this.s.dir} takes no ${format} inserts`, { retriable: false });
    const types = opts?.types;
    if (types && types.length !== columns.length)
      throw new WeblogError('INSERT_REJECTED', `rows into ${table}: ${types.length} types for ${columns.length} columns`, { retriable: false });
    if (types && this.fileReadable) return this.insertFromFile(table, columns, types, body, format, opts?.dedupToken);
    if (format !== 'TabSeparated')
      throw new WeblogError('INSERT_REJECTED', `${format} rows into ${table} need their column types (the embedded engine reads them from a file)`, {
        retriable: false,
      });
    return this.insertRaw(table, 'TabSeparated', body, columns, opts?.dedupToken);
  }

  /**
   * Rows of the given column types, written to a file in the data folder and
   * read with `INSERT ... SELECT * FROM file(..., <format>, 'types')`:
   * chdb reads the values as those types (LowCardinality columns as String)
   * and converts each block to the table's, as a server does with input().
   * Filling LowCardinality columns value by value while parsing, and chdb's
   * raw insert call itself (about 4 µs per row on its own thread, whatever
   * the table), made the straight insert cost 1.5x as much, and reading
   * RowBinary costs it less than text (bench/README.md, "The embedded path").
   * A column an operator changed takes or refuses values as with a straight insert.
   */
  private async insertFromFile(
    table: string,
    columns: readonly string[],
    types: readonly string[],
    body: Buffer,
    format: RowFormat,
    dedupToken: string | undefined,
  ): Promise<void> {
    const file = path.join(this.s.dir, spoolDir, `${process.pid}-${++this.s.spooled}.${format === 'RowBinary' ? 'bin' : 'tsv'}`);
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, body);
    } catch (err) {
      await rm(file, { force: true }).catch(() => undefined);
      throw new WeblogError('UNAVAILABLE', `cannot write rows for the embedded ClickHouse to ${file}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    const structure = columns.map((c, i) => `${c} ${types[i] as string}`).join(', ');
    const dedup = Object.entries(dedupSettings(dedupToken));
    const settings = dedup.length > 0 ? ` SETTINGS ${dedup.map(([k, v]) => `${k} = ${typeof v === 'number' ? v : sqlString(v)}`).join(', ')}` : '';
    try {
      await this.run((session) =>
        session.queryAsync(
          `INSERT INTO ${sqlIdentifier(table)} (${columns.map(sqlIdentifier).join(', ')})${settings} SELECT * FROM file(${sqlString(file)}, ${format}, ${sqlString(structure)})`,
          { format: 'TSV' },
        ),
      );
    } catch (err) {
      throw wrap(err, `insert into ${table}`, 'INSERT_REJECTED');
    } finally {
      await rm(file, { force: true }).catch(() => undefined);
    }
  }

  /** One raw insert: the bytes go to chdb as they are. */
  private async insertRaw(
    table: string,
    format: 'JSONEachRow' | 'TabSeparated',
    values: Buffer,
    columns: readonly string[] | undefined,
    dedupToken: string | undefined,
  ): Promise<void> {
    try {
      await this.run((session) =>
        session.insert({
          table,
          values,
          format,
          ...(columns ? { columns } : {}),
          ...(dedupToken ? { settings: dedupSettings(dedupToken) } : {}),
        }),
      );
    } catch (err) {
      throw wrap(err, `insert into ${table}`, 'INSERT_REJECTED');
    }
  }

  /** In-process: every insert has finished or failed when its call returns. */
  settle(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const s = this.s;
    await s.tail;
    if (--s.refs === 0) {
      s.session.close();
      if (shared === s) shared = undefined;
    }
  }
}
