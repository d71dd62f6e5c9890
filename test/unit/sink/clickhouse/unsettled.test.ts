import { describe, expect, it } from 'vitest';
import { insertNeverRan, judge, queryLogType, queryLogTypeOf, type ServerView, type Unsettled } from '../../../../src/sink/clickhouse/unsettled.js';

const view = (over: Partial<ServerView> = {}): ServerView => ({ startedAt: 0, running: new Set(), logged: new Map(), ...over });

describe('insertNeverRan', () => {
  it('is true only when the server answered with its own error or nothing was sent', () => {
    expect(insertNeverRan(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(insertNeverRan(Object.assign(new Error('Cannot parse input'), { code: '27' }))).toBe(true);
    expect(insertNeverRan(new Error('Code: 53, e.displayText() = DB::Exception: Type mismatch'))).toBe(true);
    expect(insertNeverRan(new Error('Timeout error.'))).toBe(false);
    expect(insertNeverRan(new Error('socket hang up'))).toBe(false);
    expect(insertNeverRan(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(false);
    expect(insertNeverRan(Object.assign(new Error('x'), { code: '319' }))).toBe(false); // UNKNOWN_STATUS_OF_INSERT
    expect(insertNeverRan(new Error('wrapped', { cause: Object.assign(new Error('r'), { code: 'ECONNREFUSED' }) }))).toBe(true);
  });
});

describe('judge', () => {
  const sent = 1_000_000;
  it('settles when the log shows the end, or the server restarted after sending', () => {
    for (const t of [queryLogType.finish, queryLogType.exceptionBeforeStart, queryLogType.exceptionWhileProcessing]) {
      expect(judge({ queryId: 'q', sentAt: sent }, view({ logged: new Map([['q', [queryLogType.start, t]]]) }), sent + 10, 10_000)).toBe('settled');
    }
    expect(judge({ queryId: 'q', sentAt: sent }, view({ startedAt: sent + 1500 }), sent + 2000, 10_000)).toBe('settled');
    // a start within uptime()'s 1 s rounding is not a restart
    expect(judge({ queryId: 'q', sentAt: sent }, view({ startedAt: sent + 900 }), sent + 2000, 10_000)).toBe('waiting');
  });

  it('waits while the query runs or has only started, and for the whole grace period after it was last seen', () => {
    const u: Unsettled = { queryId: 'q', sentAt: sent };
    expect(judge(u, view(), sent + 100, 10_000)).toBe('waiting');
    expect(judge(u, view({ running: new Set(['q']) }), sent + 5_000, 10_000)).toBe('running');
    expect(judge(u, view({ logged: new Map([['q', [queryLogType.start]]]) }), sent + 9_000, 10_000)).toBe('running');
    // quiet since 12,000: the grace runs from there, not from the first look
    expect(judge(u, view(), sent + 12_000, 10_000)).toBe('waiting');
    expect(judge(u, view(), sent + 21_999, 10_000)).toBe('waiting');
    expect(judge(u, view(), sent + 22_000, 10_000)).toBe('settled');
  });
});

describe('queryLogTypeOf', () => {
  it("reads a current server's Enum8 names and 18.16's numbers alike", () => {
    expect(['QueryStart', 'QueryFinish', 'ExceptionBeforeStart', 'ExceptionWhileProcessing'].map(queryLogTypeOf)).toEqual([
      queryLogType.start,
      queryLogType.finish,
      queryLogType.exceptionBeforeStart,
      queryLogType.exceptionWhileProcessing,
    ]);
    expect([1, '2', 3].map(queryLogTypeOf)).toEqual([1, 2, 3]);
    // a running INSERT whose start is logged by name is still running
    const logged = new Map([['q', ['QueryStart'].map(queryLogTypeOf)]]);
    expect(judge({ queryId: 'q', sentAt: 1 }, { startedAt: 0, running: new Set(), logged }, 2, 10_000)).toBe('running');
  });
});
