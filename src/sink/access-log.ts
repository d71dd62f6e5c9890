/**
 * The processor's store: the `access_log` and `rejects` tables of one
 * ClickHouse, and the reads exactly-once needs. It knows the tables, their
 * columns in each dialect and all the SQL; the processor only says what to
 * write and asks what is stored.
 */
import type { Reject } from '../parse/record.js';
import type { RowBuffer } from './row-buffer.js';
import { WeblogError } from '../errors.js';
import type { ClickHouse, Dialect, RowFormat } from './clickhouse/types.js';
import { rowBinaryTypes } from './columns.js';
import { AccessLogRowWriter, accessLogColumns } from './rows.js';

/** A line's place in its partition: its message's offset and its index in the message. */
export interface Position {
  offset: number;
  line: number;
}

/** Before every line. */
export const nothingStored = (): Position => ({ offset: -1, line: -1 });

/** The line at (offset, line) is at or before `p`. */
export function atOrBefore(offset: number, line: number, p: Position): boolean {
  return offset < p.offset || (offset === p.offset && line <= p.line);
}

/** The later of two positions. */
export function laterOf(a: Position, b: Position): Position {
  return atOrBefore(a.offset, a.line, b) ? b : a;
}

/** `offset:line`, a position as a Set key. */
export const positionKey = (offset: number, line: number): string => `${offset}:${line}`;

/** The last lines stored from one partition (offset -1: none). */
export interface StoredOffsets {
  rows: Position;
  rejects: Position;
}

/** Where a line came from, as the rejects table records it. */
export interface LineOrigin {
  offset: number;
  line: number;
  source: string;
  sourceOffset: number;
}

export interface RejectedLine {
  msg: LineOrigin;
  reject: Reject;
}

/** What the processor needs from storage; `ClickHouseAccessLogStore` is the real one, tests use a small fake. */
export interface AccessLogStore {
  /** A row writer for this store's column layout. */
  rowWriter(site: string | undefined): AccessLogRowWriter;
  /**
   * The last stored lines of a partition in messages at or after offset
   * `from`. Resolves only once no INSERT of this partition can still land
   * (see ClickHouse.settle), so what it returns stays true.
   */
  storedOffsets(topic: string, partition: number, from: number): Promise<StoredOffsets>;
  /** Which of `lines` the rejects table already holds, as positionKey()s (for rejects found while narrowing). */
  storedRejects(topic: string, partition: number, lines: readonly Position[]): Promise<Set<string>>;
  /** Rows [from, to) of `rows` in one atomic INSERT. */
  insertRows(topic: string, partition: number, rows: RowBuffer, from: number, to: number): Promise<void>;
  /** Rejected lines in one atomic INSERT. */
  insertRejects(topic: string, partition: number, rejects: readonly RejectedLine[]): Promise<void>;
}

export class ClickHouseAccessLogStore implements AccessLogStore {
  /** The types the rows' values are written as (columns.ts); the connection converts them to the table's. */
  private readonly types: readonly string[];

  /** @param format the rows' format; by default the cheapest the connection takes (after ch.detect()). */
  constructor(
    private readonly ch: ClickHouse,
    private readonly dialect: Dialect = ch.dialect,
    readonly format: RowFormat = ch.rowFormats[0] ?? 'TabSeparated',
  ) {
    if (!ch.rowFormats.includes(format))
      throw new WeblogError('CONFIG_INVALID', `${ch.describe()} takes no ${format} rows (it takes ${ch.rowFormats.join(', ')})`);
    this.types = rowBinaryTypes(dialect);
  }

  rowWriter(site: string | undefined): AccessLogRowWriter {
    return new AccessLogRowWriter({ site, dialect: this.dialect, timezone: this.ch.timezone, format: this.format });
  }

  /** The insert scope of a partition's rows (see ClickHouse.settle). */
  private scope(topic: string, partition: number): string {
    return `${this.ch.database}/${topic}/${partition}`;
  }

  /** The rows of one partition: `{topic:String}` and `{partition:UInt16}` (bound). */
  private readonly where = 'kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}';

  async storedOffsets(topic: string, partition: number, from: number): Promise<StoredOffsets> {
    await this.ch.settle(this.scope(topic, partition)); // nothing of ours or of a replica before us may land after this read
    const [rows, rejects] = await Promise.all(
      ['access_log', 'rejects'].map((t) =>
        this.ch.query<{ o: string | number; l: string | number }>(
          `SELECT kafka_offset AS o, kafka_line AS l FROM ${t} WHERE ${this.where} AND kafka_offset >= {from:UInt64} ORDER BY kafka_offset DESC, kafka_line DESC LIMIT 1`,
          { topic, partition, from: Math.max(0, from) },
        ),
      ),
    );
    const top = (r: { o: string | number; l: string | number }[] | undefined): Position =>
      r?.[0] ? { offset: Number(r[0].o), line: Number(r[0].l) } : nothingStored();
    return { rows: top(rows), rejects: top(rejects) };
  }

  /** Rows and rejects stored from a whole topic, and its highest offset (-1: none): what `weblog run` checks its state against. */
  async storedFromTopic(topic: string): Promise<{ rows: number; rejects: number; maxOffset: number }> {
    const q = (t: string) =>
      this.ch.query<{ c: string | number; m: string | number }>(`SELECT count() AS c, max(kafka_offset) AS m FROM ${t} WHERE kafka_topic = {topic:String}`, {
        topic,
      });
    const [[r], [j]] = await Promise.all([q('access_log'), q('rejects')]);
    const rows = Number(r?.c ?? 0);
    const rejects = Number(j?.c ?? 0);
    return { rows, rejects, maxOffset: Math.max(rows > 0 ? Number(r?.m) : -1, rejects > 0 ? Number(j?.m) : -1) };
  }

  /** Everything the tables hold. */
  async totals(): Promise<{ rows: number; rejects: number }> {
    const [t] = await this.ch.query<{ rows: string | number; rejects: string | number }>(
      'SELECT (SELECT count() FROM access_log) AS rows, (SELECT count() FROM rejects) AS rejects',
    );
    return { rows: Number(t?.rows ?? 0), rejects: Number(t?.rejects ?? 0) };
  }

  async storedRejects(topic: string, partition: number, lines: readonly Position[]): Promise<Set<string>> {
    if (lines.length === 0) return new Set();
    await this.ch.settle(this.scope(topic, partition));
    const offsets = lines.map((p) => p.offset);
    const present = await this.ch.query<{ o: string | number; l: string | number }>(
      `SELECT kafka_offset AS o, kafka_line AS l FROM rejects WHERE ${this.where} AND kafka_offset BETWEEN {lo:UInt64} AND {hi:UInt64} AND has({keys:Array(String)}, concat(toString(kafka_offset), ':', toString(kafka_line)))`,
      { topic, partition, lo: Math.min(...offsets), hi: Math.max(...offsets), keys: lines.map((p) => positionKey(p.offset, p.line)) },
    );
    return new Set(present.map((p) => positionKey(Number(p.o), Number(p.l))));
  }

  async insertRows(topic: string, partition: number, rows: RowBuffer, from: number, to: number): Promise<void> {
    await this.ch.insertRows('access_log', accessLogColumns[this.dialect], rows.bytes(from, to), this.format, {
      dedupToken: `${topic}:${partition}:${rows.offsets[from] as number}.${rows.lines[from] as number}-${rows.offsets[to - 1] as number}.${rows.lines[to - 1] as number}`,
      scope: this.scope(topic, partition),
      types: this.types,
    });
  }

  async insertRejects(topic: string, partition: number, rejects: readonly RejectedLine[]): Promise<void> {
    const legacy = this.dialect === 'legacy';
    const json = rejects
      .map(({ msg, reject }) =>
        JSON.stringify({
          ...(legacy ? { received_at: Math.floor(Date.now() / 1000) } : {}),
          reason: reject.reason,
          detail: reject.detail,
          line: reject.line,
          source: msg.source,
          source_offset: Math.max(0, msg.sourceOffset),
          kafka_topic: topic,
          kafka_partition: partition,
          kafka_offset: msg.offset,
          kafka_line: msg.line,
        }),
      )
      .join('\n');
    const [first, last] = [rejects[0]?.msg, rejects[rejects.length - 1]?.msg];
    await this.ch.insertJson('rejects', json, {
      // A batch's rejects are fixed by its extent (see transport/kafka-consumer.ts): a late INSERT of them collapses with a retry.
      ...(first && last ? { dedupToken: `rejects:${topic}:${partition}:${first.offset}.${first.line}-${last.offset}.${last.line}` } : {}),
      scope: this.scope(topic, partition),
    });
  }
}
