/**
 * The processor's store: the `access_log` and `rejects` tables of one
 * ClickHouse, and the reads exactly-once needs. It knows the tables, their
 * columns in each dialect and all the SQL; the processor only says what to
 * write and asks what is stored.
 */
import type { Reject } from '../parse/record.js';
import type { RowBuffer } from './row-buffer.js';
import { sqlString } from './clickhouse/sql.js';
import type { ClickHouse, Dialect } from './clickhouse/types.js';
import { AccessLogTsvWriter, accessLogColumns } from './rows.js';

/** The highest offsets stored from one partition (-1: none). */
export interface StoredOffsets {
  rows: number;
  rejects: number;
}

/** Where a line came from, as the rejects table records it. */
export interface LineOrigin {
  offset: number;
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
  rowWriter(site: string | undefined): AccessLogTsvWriter;
  /**
   * The highest stored offsets of a partition at or after `from`. Resolves
   * only once no INSERT of this partition can still land (see
   * ClickHouse.settle), so what it returns stays true.
   */
  storedOffsets(topic: string, partition: number, from: number): Promise<StoredOffsets>;
  /** Which of `offsets` the rejects table already holds (for rejects found while narrowing). */
  storedRejects(topic: string, partition: number, offsets: readonly number[]): Promise<Set<number>>;
  /** Rows [from, to) of `rows` in one atomic INSERT. */
  insertRows(topic: string, partition: number, rows: RowBuffer, from: number, to: number): Promise<void>;
  /** Rejected lines in one atomic INSERT. */
  insertRejects(topic: string, partition: number, rejects: readonly RejectedLine[]): Promise<void>;
}

export class ClickHouseAccessLogStore implements AccessLogStore {
  constructor(
    private readonly ch: ClickHouse,
    private readonly dialect: Dialect = ch.dialect,
  ) {}

  rowWriter(site: string | undefined): AccessLogTsvWriter {
    return new AccessLogTsvWriter({ site, dialect: this.dialect });
  }

  /** The insert scope of a partition's rows (see ClickHouse.settle). */
  private scope(topic: string, partition: number): string {
    return `${this.ch.database}/${topic}/${partition}`;
  }

  private where(topic: string, partition: number): string {
    return `kafka_topic = ${sqlString(topic)} AND kafka_partition = ${partition}`;
  }

  async storedOffsets(topic: string, partition: number, from: number): Promise<StoredOffsets> {
    await this.ch.settle(this.scope(topic, partition)); // nothing of ours or of a replica before us may land after this read
    const where = `${this.where(topic, partition)} AND kafka_offset >= ${from}`;
    const [rows, rejects] = await Promise.all(
      ['access_log', 'rejects'].map((t) =>
        this.ch.query<{ m: string | number; c: string | number }>(`SELECT max(kafka_offset) AS m, count() AS c FROM ${t} WHERE ${where}`),
      ),
    );
    const top = (r: { m: string | number; c: string | number }[] | undefined) => (r?.[0] && Number(r[0].c) > 0 ? Number(r[0].m) : -1);
    return { rows: top(rows), rejects: top(rejects) };
  }

  /** Rows and rejects stored from a whole topic, and its highest offset (-1: none): what `weblog run` checks its state against. */
  async storedFromTopic(topic: string): Promise<{ rows: number; rejects: number; maxOffset: number }> {
    const q = (t: string) =>
      this.ch.query<{ c: string | number; m: string | number }>(
        `SELECT count() AS c, max(kafka_offset) AS m FROM ${t} WHERE kafka_topic = ${sqlString(topic)}`,
      );
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

  async storedRejects(topic: string, partition: number, offsets: readonly number[]): Promise<Set<number>> {
    if (offsets.length === 0) return new Set();
    await this.ch.settle(this.scope(topic, partition));
    const present = await this.ch.query<{ o: string | number }>(
      `SELECT kafka_offset AS o FROM rejects WHERE ${this.where(topic, partition)} AND kafka_offset IN (${offsets.join(',')})`,
    );
    return new Set(present.map((p) => Number(p.o)));
  }

  async insertRows(topic: string, partition: number, rows: RowBuffer, from: number, to: number): Promise<void> {
    await this.ch.insertTsv('access_log', accessLogColumns[this.dialect], rows.bytes(from, to), {
      dedupToken: `${topic}:${partition}:${rows.offsets[from] as number}-${rows.offsets[to - 1] as number}`,
      scope: this.scope(topic, partition),
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
        }),
      )
      .join('\n');
    await this.ch.insertJson('rejects', json, { scope: this.scope(topic, partition) });
  }
}
