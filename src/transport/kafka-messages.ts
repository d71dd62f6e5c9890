/**
 * Reading the messages of the raw topic. Other producers write to it too, so
 * every header is checked: an offset that is not 1-15 digits counts as
 * unknown, a reject reason the shipper does not write is ignored, a source
 * is capped.
 */
import type { KafkaMessage } from 'kafkajs';
import { pushMessageLines } from './message-lines.js';
import { headerNames, shipperRejectReason, type LogMessage, type ShipperRejectReason } from './types.js';

function headerBytes(m: KafkaMessage, name: string): Buffer | undefined {
  const v = m.headers?.[name];
  if (v === undefined || v === null) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined || one === null ? undefined : typeof one === 'string' ? Buffer.from(one) : one;
}

/**
 * A decimal header read from its bytes (no string in between): 1 to 15
 * digits; -1 (unknown) when absent or anything else. Other producers write to
 * our topics too: "NaN" or a 30-digit value must not reach a UInt64 column.
 */
function decimalHeader(b: Buffer | undefined): number {
  if (b === undefined || b.length === 0 || b.length > 15) return -1;
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    const d = (b[i] as number) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const EMPTY = Buffer.alloc(0);

/** Longest source header kept (S3 keys are at most 1,024 bytes). */
const MAX_SOURCE_BYTES = 4096;

/** The reject header, when it is one the shipper writes; anything else is ignored and the line parsed as usual. */
function rejectHeader(b: Buffer | undefined): ShipperRejectReason | undefined {
  if (b === undefined) return undefined;
  return shipperRejectReason(b.toString('latin1'));
}

/** Kafka messages as LogMessages, one decoder per consumer. */
export class MessageDecoder {
  // The source header repeats on every line of an object: its text is decoded once per run of equal bytes.
  private lastSourceBytes: Buffer | undefined;
  private lastSource = '';

  private sourceHeader(b: Buffer | undefined): string {
    if (b === undefined) return '';
    if (b.length > MAX_SOURCE_BYTES) return b.toString('utf8', 0, MAX_SOURCE_BYTES);
    if (this.lastSourceBytes === undefined || !b.equals(this.lastSourceBytes)) {
      this.lastSource = b.toString('utf8');
      this.lastSourceBytes = Buffer.from(b); // a copy: b is a view into the whole fetch response
    }
    return this.lastSource;
  }

  /** Appends the lines of `m` (one, or a bundle) to `out`. */
  decodeInto(m: KafkaMessage, out: LogMessage[]): void {
    pushMessageLines(
      m.value ?? EMPTY,
      {
        rejectReason: rejectHeader(headerBytes(m, headerNames.reject)),
        offset: Number(m.offset),
        source: this.sourceHeader(headerBytes(m, headerNames.source)),
        sourceOffset: decimalHeader(headerBytes(m, headerNames.sourceOffset)),
        timestamp: Number(m.timestamp),
      },
      out,
    );
  }
}
