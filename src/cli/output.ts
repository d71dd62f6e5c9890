/** Writing to stdout/stderr with backpressure, and the JSON shape of records. */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { AccessRecord, Reject } from '../parse/record.js';

/** Writes and waits for 'drain' when the stream's buffer is full. */
export async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** A record as JSON: time in ISO-8601 with milliseconds, custom fields flattened. */
export function recordJson(r: AccessRecord): string {
  const o: Record<string, unknown> = { ...r, time: new Date(r.time).toISOString() };
  delete o.extra;
  // Own properties, not assignment: an extra field named __proto__ (from `$__proto__`) was dropped by Object.assign.
  if (r.extra) for (const [k, v] of Object.entries(r.extra)) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return JSON.stringify(o);
}

export function rejectJson(r: Reject): string {
  return JSON.stringify({ line: r.line, reason: r.reason, detail: r.detail });
}
