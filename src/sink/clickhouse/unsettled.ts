/**
 * INSERTs whose outcome is unknown, and how they become known.
 *
 * An INSERT that timed out or lost its connection may still land: a server
 * that hangs (paused, swapping, stuck on a lock) keeps the request in its
 * socket and runs it when it resumes, long after the client gave up. If the
 * processor read back the stored offsets before that, it would insert the
 * rows a second time (seen: 41,000 rows for 40,000 offsets after a SIGSTOP).
 *
 * So every INSERT carries its own query_id, and one whose outcome is unknown
 * is "unsettled" until the server proves what became of it:
 * - it answered with an error of its own, or refused the connection: never ran;
 * - the server restarted after the request was sent: it died with the process;
 * - `system.query_log` holds its end (QueryFinish, or an exception): known;
 * - `system.processes` shows it running: wait until it ends (never killed:
 *   the views of a killed INSERT may miss a block its table took);
 * - none of these for `graceMs` while the server answers: it never arrived
 *   (a request buffered in a live server's socket is read within milliseconds).
 * Only then may stored offsets be read back. The read-back then sees a late
 * INSERT's rows, and skips them.
 */

/** query_log `type` values (ClickHouse QueryLogElement::Type). */
export const queryLogType = { start: 1, finish: 2, exceptionBeforeStart: 3, exceptionWhileProcessing: 4 } as const;

const queryLogTypeNames: Record<string, number> = {
  QueryStart: queryLogType.start,
  QueryFinish: queryLogType.finish,
  ExceptionBeforeStart: queryLogType.exceptionBeforeStart,
  ExceptionWhileProcessing: queryLogType.exceptionWhileProcessing,
};

/**
 * A query_log `type` as read: a current server's JSON gives the Enum8's name
 * ('QueryStart'), not its number. Read as a number, every name became NaN,
 * so a running INSERT whose start was logged counted as ended and its
 * partition was read back while it still wrote (test/integration/process/
 * settle-running.test.ts).
 */
export function queryLogTypeOf(t: number | string): number {
  return typeof t === 'number' ? t : (queryLogTypeNames[t] ?? Number(t));
}

/** Server-side error codes that leave an INSERT's outcome unknown. */
const unknownOutcomeCodes = new Set([
  159, // TIMEOUT_EXCEEDED: may have been written before the limit hit
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
]);

/**
 * True when a failed INSERT certainly did not and will not write anything:
 * the server answered with its own error, or nothing was ever sent.
 */
export function insertNeverRan(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return true;
    const m = typeof code === 'string' && /^\d+$/.test(code) ? code : typeof message === 'string' ? /Code: (\d+)/.exec(message)?.[1] : undefined;
    if (m !== undefined) return !unknownOutcomeCodes.has(Number(m));
    if (typeof message === 'string' && /ECONNREFUSED/.test(message)) return true;
  }
  return false;
}

export interface Unsettled {
  queryId: string;
  /** When the request was sent, epoch ms. */
  sentAt: number;
  /** Since when the server answers and shows no trace of it, epoch ms. */
  quietSince?: number | undefined;
}

/** What the server says about the unsettled queries, from one look. */
export interface ServerView {
  /** Epoch ms at which the server process started (now − uptime). */
  startedAt: number;
  /** query_ids in system.processes. */
  running: ReadonlySet<string>;
  /** query_log types per query_id (empty when the log is not available). */
  logged: ReadonlyMap<string, readonly number[]>;
}

export type Verdict = 'settled' | 'running' | 'waiting';

/** Decides one query from one look at the server (pure: the caller acts on it). */
export function judge(u: Unsettled, view: ServerView, now: number, graceMs: number): Verdict {
  // uptime() has whole seconds: a start more than 1 s after sending is a restart.
  if (view.startedAt > u.sentAt + 1000) return 'settled';
  const types = view.logged.get(u.queryId) ?? [];
  if (types.some((t) => t !== queryLogType.start)) return 'settled';
  if (view.running.has(u.queryId) || types.includes(queryLogType.start)) {
    u.quietSince = undefined;
    return 'running';
  }
  u.quietSince ??= now;
  return now - u.quietSince >= graceMs ? 'settled' : 'waiting';
}
