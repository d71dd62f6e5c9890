/**
 * How long an S3 or SQS request may get no byte from its server before it is
 * abandoned (and retried): a server that hangs instead of refusing (a stopped
 * process, a dead NAT mapping, a half-open connection) would otherwise hold
 * the shipper for ever, since the AWS SDK waits without limit by default.
 * The limit is on silence, not on the whole request: a big object streams
 * for as long as bytes keep coming.
 */
export const sourceTimeoutDefaults = {
  /** No connection, or no byte for this long: the request is given up (ms). */
  timeoutMs: 30_000,
} as const;

/** The AWS SDK's request handler options for `timeoutMs`; `waitMs` is added where the server is asked to wait (an SQS long poll). */
export function requestHandlerOptions(timeoutMs: number = sourceTimeoutDefaults.timeoutMs, waitMs = 0): { connectionTimeout: number; socketTimeout: number } {
  return { connectionTimeout: timeoutMs, socketTimeout: timeoutMs + waitMs };
}
