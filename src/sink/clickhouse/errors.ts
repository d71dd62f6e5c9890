/**
 * Sorting ClickHouse failures into retriable (server down, timeouts, 5xx,
 * TOO_MANY_PARTS, memory, restarting) and permanent (the rows or the SQL are
 * wrong). Codes from ClickHouse's ErrorCodes.cpp.
 */
import { WeblogError } from '../../errors.js';

/** Server-side codes that a later retry can succeed on. */
const retriableCodes = new Set([
  3, // UNEXPECTED_END_OF_FILE
  159, // TIMEOUT_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  75, // CANNOT_WRITE_TO_FILE_DESCRIPTOR (errno 28 on 18.16 when the disk is full)
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  243, // NOT_ENOUGH_SPACE (a full disk: wait until there is room again)
  252, // TOO_MANY_PARTS
  285, // TOO_FEW_LIVE_REPLICAS
  286, // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE (also: another quorum insert is running)
  289, // REPLICA_IS_NOT_IN_QUORUM (select_sequential_consistency on a replica catching up)
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  425, // SYSTEM_ERROR
  439, // CANNOT_SCHEDULE_TASK
  999, // KEEPER_EXCEPTION
]);

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ECONNABORTED']);

/**
 * The server's exception code: @clickhouse/client's ClickHouseError carries
 * it in `code`. chdb's errors, and the client's when the server refused a
 * streamed INSERT mid-body, carry only the server's text ("Code: 27. ..."):
 * no code field exists there, so that text is read.
 */
function serverCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
  const m = typeof e.message === 'string' ? /Code: (\d+)/.exec(e.message) : null;
  return m ? Number(m[1]) : undefined;
}

/** The ClickHouse exception code of a failure (ours wrap theirs in `cause`), if it has one. */
export function clickhouseCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = serverCode(e);
    if (code !== undefined) return code;
  }
  return undefined;
}

/**
 * The server's disk is full: codes 243 (NOT_ENOUGH_SPACE) and 75 with errno
 * 28 (what 18.16 answered when its data path filled up); the errno has no
 * code of its own, so the message is matched for it. A condition to wait
 * out, never a bad row: the processor split batches hunting for bad rows and
 * crash-looped (10-16 exits in 60 s).
 */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (serverCode(e) === 243) return true;
    const msg = (e as { message?: unknown }).message;
    if (typeof msg === 'string' && /errno: 28\b|No space left on device|NOT_ENOUGH_SPACE/i.test(msg)) return true;
  }
  return false;
}

export function isTransient(err: unknown): boolean {
  if (err instanceof WeblogError) return err.retriable;
  if (isDiskFull(err)) return true;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  // The server's own verdict first: when it refuses a streamed INSERT it
  // answers and closes the connection before reading the whole body, so the
  // client may also report EPIPE/ECONNRESET for an error that is permanent.
  const code = serverCode(err);
  if (code !== undefined) return retriableCodes.has(code);
  if (typeof e.code === 'string' && networkCodes.has(e.code)) return true; // errno and undici codes
  // Two failures come with no code at all: the client's own request timeout
  // ("Timeout error.", a plain Error) and a 502/503/504 from a proxy in front
  // of the server (the client hands over the body text only).
  const msg = typeof e.message === 'string' ? e.message : '';
  if (/^Timeout error\.|\bstatus (50[234])\b|^50[234]\b|\b50[234] (Bad Gateway|Service Unavailable|Gateway Time-?out)/i.test(msg)) return true;
  if (e.cause) return isTransient(e.cause);
  return false;
}

/**
 * Refusals of the user, not of the request: a right the user lacks (497
 * ACCESS_DENIED), a `readonly` user asked to write or to change a setting
 * (164 READONLY; a replica that cannot write answers 242 instead), a wrong
 * password or an unknown user (516, 192). Retrying cannot help: the worker
 * stops and says which user needs what (docs/clickhouse.md, "Users and rights").
 */
const refusalCodes = new Set([164, 192, 497, 516]);

/** True when ClickHouse refused the user (see refusalCodes). */
export function isUserRefusal(err: unknown): boolean {
  const code = clickhouseCode(err);
  return code !== undefined && refusalCodes.has(code);
}

/** Wraps a ClickHouse failure as UNAVAILABLE (retriable), REFUSED (the user lacks a right) or the given permanent code. */
export function wrapClickHouseError(err: unknown, what: string, permanent: 'INSERT_REJECTED' | 'QUERY_FAILED'): WeblogError {
  if (err instanceof WeblogError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const short = msg.split('\n')[0]?.slice(0, 500) ?? msg;
  if (isDiskFull(err)) return new WeblogError('UNAVAILABLE', `${what}: ClickHouse has no disk space left (waiting until it has): ${short}`, { cause: err });
  if (isUserRefusal(err))
    return new WeblogError('REFUSED', `${what}: ${short} (the rights each weblog role needs: docs/clickhouse.md, "Users and rights")`, { cause: err });
  return isTransient(err)
    ? new WeblogError('UNAVAILABLE', `${what}: ClickHouse unavailable: ${short}`, { cause: err })
    : new WeblogError(permanent, `${what}: ${short}`, { cause: err });
}
