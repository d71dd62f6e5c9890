/**
 * The parsed record. Its field names are the contract shared by the CLI's
 * JSON output and the ClickHouse columns (clickhouse-schema/).
 */

export interface AccessRecord {
  remote_addr: string;
  remote_user: string;
  /** Epoch milliseconds, UTC. */
  time: number;
  /** The raw request line, e.g. `GET /a?b HTTP/1.1` (unescaped). */
  request: string;
  method: string;
  url: string;
  path: string;
  query: string;
  protocol: string;
  status: number;
  bytes: number;
  referer: string;
  user_agent: string;
  vhost: string;
  /** Seconds; null when the format has no request time. */
  request_time: number | null;
  upstream_response_time: string;
  x_forwarded_for: string;
  /** Fields of a custom format that have no column of their own, by variable name. */
  extra: Record<string, string> | null;
}

/** Why a line was not accepted. The set is closed so counts can be grouped by it. */
export type RejectReason =
  | 'empty_line'
  | 'no_match'
  | 'unterminated_quote'
  | 'unterminated_bracket'
  | 'bad_time'
  | 'missing_time'
  | 'bad_status'
  | 'bad_bytes'
  | 'bad_number'
  | 'line_too_long'
  | 'trailing_garbage'
  | 'invalid_utf8'
  | 'insert_rejected';

export interface Reject {
  line: string;
  reason: RejectReason;
  /** Human-readable detail that names the field and what was expected. */
  detail: string;
}

export type ParseResult = { ok: true; record: AccessRecord } | { ok: false; reject: Reject };

export function emptyRecord(): AccessRecord {
  return {
    remote_addr: '',
    remote_user: '',
    time: 0,
    request: '',
    method: '',
    url: '',
    path: '',
    query: '',
    protocol: '',
    status: 0,
    bytes: 0,
    referer: '',
    user_agent: '',
    vhost: '',
    request_time: null,
    upstream_response_time: '',
    x_forwarded_for: '',
    extra: null,
  };
}

/** Stores a field of the format that has no column of its own; `__proto__` too, as a plain own key. */
export function setExtra(r: AccessRecord, name: string, value: string): void {
  const extra = (r.extra ??= {});
  if (name === '__proto__') Object.defineProperty(extra, name, { value, enumerable: true, writable: true, configurable: true });
  else extra[name] = value;
}
