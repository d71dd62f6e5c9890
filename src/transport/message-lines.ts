/**
 * The lines of one message. Any producer may write the raw topic: a message
 * holds one line (Kafka Connect, Filebeat, Vector, Fluent Bit, `weblog ship
 * --lines-per-message 1`) or a bundle of consecutive lines (`weblog ship`):
 * each LF ends a line, a trailing CR is dropped, a last line without LF counts
 * too, and an empty message is one empty line. Each line is identified by the
 * message's offset and its index in the message.
 */
import type { LogMessage, ShipperRejectReason } from './types.js';

/** What the lines of one message share. */
export interface MessageMeta {
  offset: number;
  source: string;
  /** Byte offset of the message's first line in its source (-1 when unknown). */
  sourceOffset: number;
  timestamp: number;
  rejectReason?: ShipperRejectReason | undefined;
}

function line(value: Buffer, start: number, end: number, index: number, meta: MessageMeta): LogMessage {
  const e = end > start && value[end - 1] === 13 ? end - 1 : end;
  return {
    value: value.toString('utf8', start, e),
    offset: meta.offset,
    line: index,
    source: meta.source,
    sourceOffset: meta.sourceOffset < 0 ? -1 : meta.sourceOffset + start,
    timestamp: meta.timestamp,
    rejectReason: meta.rejectReason,
  };
}

/** Appends the lines of `value` to `out`; returns how many. */
export function pushMessageLines(value: Buffer, meta: MessageMeta, out: LogMessage[]): number {
  let nl = value.indexOf(10);
  if (nl === -1 || nl === value.length - 1) {
    out.push(line(value, 0, nl === -1 ? value.length : nl, 0, meta)); // one line: the common case of other producers
    return 1;
  }
  let start = 0;
  let n = 0;
  for (; nl !== -1; nl = value.indexOf(10, start)) {
    out.push(line(value, start, nl, n++, meta));
    start = nl + 1;
  }
  if (start < value.length) out.push(line(value, start, value.length, n++, meta));
  return n;
}
