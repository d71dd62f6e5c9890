/**
 * The one error type of weblog. Every error we raise carries a code from a
 * closed set and a `retriable` flag; retry logic reads the flag, never the
 * message. Wrapped errors keep the original in `cause`.
 */
import { redactText } from './redact.js';

export const errorCodes = {
  /** A command-line flag, env variable or config key is wrong. */
  CONFIG_INVALID: { retriable: false, exitCode: 2 },
  /** A log format string cannot be compiled. */
  FORMAT_INVALID: { retriable: false, exitCode: 2 },
  /** An input file or object cannot be read. */
  INPUT_UNREADABLE: { retriable: false, exitCode: 1 },
  /** A GeoIP / ASN database cannot be opened or is not of a known schema. */
  GEOIP_UNAVAILABLE: { retriable: false, exitCode: 1 },
  /** A server (Kafka, ClickHouse, S3) cannot be reached or answered 5xx / timed out. */
  UNAVAILABLE: { retriable: true, exitCode: 1 },
  /** ClickHouse rejected the rows themselves (type or schema mismatch). */
  INSERT_REJECTED: { retriable: false, exitCode: 1 },
  /** The schema in the database does not match the migration files. */
  SCHEMA_MISMATCH: { retriable: false, exitCode: 1 },
  /** A query failed for a reason retrying will not fix. */
  QUERY_FAILED: { retriable: false, exitCode: 1 },
  /** Saved state (weblog run's queue offsets and progress) is missing, unreadable or disagrees with ClickHouse. */
  STATE_INVALID: { retriable: false, exitCode: 1 },
  /** The ClickHouse server is older than what the schema or the reports need. */
  SERVER_TOO_OLD: { retriable: false, exitCode: 1 },
  /** No weblog data where a reader looked (no folder, database or table). */
  NO_DATA: { retriable: false, exitCode: 1 },
  /** A server refused the request for a reason retrying will not fix: no permission, a wrong password, a message too large, a topic that does not exist. */
  REFUSED: { retriable: false, exitCode: 1 },
  /** Work stopped because shutdown was requested. */
  ABORTED: { retriable: false, exitCode: 1 },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class WeblogError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WeblogError';
    this.code = code;
    this.retriable = options?.retriable ?? errorCodes[code].retriable;
  }

  get exitCode(): number {
    return errorCodes[this.code].exitCode;
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof WeblogError && err.retriable;
}

/** A short, secret-free description of any thrown value (URLs inside lose their user information and secret parameters). */
export function describeError(err: unknown): string {
  if (err instanceof WeblogError) return redactText(`${err.code}: ${err.message}`);
  if (err instanceof Error) return redactText(err.message);
  return redactText(String(err));
}
