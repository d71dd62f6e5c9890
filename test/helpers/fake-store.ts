/** An in-memory access-log store for the unit tests of the processor and the writer (the real one is tested on the servers). */
import { laterOf, nothingStored, positionKey, type AccessLogStore, type Position, type RejectedLine, type StoredOffsets } from '../../src/sink/access-log.js';
import type { RowBuffer } from '../../src/sink/row-buffer.js';
import { AccessLogRowWriter } from '../../src/sink/rows.js';

/** Rows and rejects by offset, with hooks that fail an INSERT the way a server would. */
export class FakeStore implements AccessLogStore {
  /** Offsets of the stored rows, and their (offset, line) keys. */
  readonly rows: number[] = [];
  readonly rowKeys: string[] = [];
  private readonly rowPositions: Position[] = [];
  readonly rejects: { offset: number; line: number; reason: string }[] = [];
  /** Every rows INSERT as [first, last] positionKey()s, in call order. */
  readonly insertRanges: [string, string][] = [];
  insertCalls = 0;
  /** Called with the offsets of each rows INSERT before it is stored; may throw; `land()` stores them first (an INSERT that landed though its answer was lost). */
  onInsert: (offsets: number[], land: () => void) => void = () => {};

  rowWriter(site: string | undefined): AccessLogRowWriter {
    return new AccessLogRowWriter({ site });
  }

  async storedOffsets(_t: string, _p: number, from: number): Promise<StoredOffsets> {
    const top = (list: Position[]) => list.filter((p) => p.offset >= from).reduce(laterOf, nothingStored());
    return { rows: top(this.rowPositions), rejects: top(this.rejects) };
  }

  async storedRejects(_t: string, _p: number, lines: readonly Position[]): Promise<Set<string>> {
    const want = new Set(lines.map((p) => positionKey(p.offset, p.line)));
    return new Set(this.rejects.map((r) => positionKey(r.offset, r.line)).filter((k) => want.has(k)));
  }

  async insertRows(_t: string, _p: number, rows: RowBuffer, from: number, to: number): Promise<void> {
    this.insertCalls++;
    this.insertRanges.push([
      positionKey(rows.offsets[from] as number, rows.lines[from] as number),
      positionKey(rows.offsets[to - 1] as number, rows.lines[to - 1] as number),
    ]);
    let landed = false;
    const land = () => {
      landed = true;
      this.rows.push(...rows.offsets.slice(from, to));
      for (let i = from; i < to; i++) {
        const p = { offset: rows.offsets[i] as number, line: rows.lines[i] as number };
        this.rowPositions.push(p);
        this.rowKeys.push(positionKey(p.offset, p.line));
      }
    };
    this.onInsert(rows.offsets.slice(from, to), land);
    if (!landed) land();
  }

  /** Called before each rejects INSERT; may throw (after `land()`: the INSERT landed though its answer was lost). */
  onInsertRejects: (land: () => void) => void = () => {};

  async insertRejects(_t: string, _p: number, rejects: readonly RejectedLine[]): Promise<void> {
    let landed = false;
    const land = () => {
      landed = true;
      for (const r of rejects) this.rejects.push({ offset: r.msg.offset, line: r.msg.line, reason: r.reject.reason });
    };
    this.onInsertRejects(land);
    if (landed) return;
    for (const r of rejects) this.rejects.push({ offset: r.msg.offset, line: r.msg.line, reason: r.reject.reason });
  }
}
