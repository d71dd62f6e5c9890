/**
 * The stream processor: Kafka batches in; each line parsed, enriched and
 * encoded as a row, or rejected with a reason; the batch handed to the
 * sink's writer (`sink/writer.ts`), which stores it exactly once. The
 * transport commits the batch's offsets only after `handleBatch` resolved.
 */
import { createEnricher, type EnrichOptions, type Enricher } from '../enrich/index.js';
import { maskIps, maskReject } from '../enrich/privacy.js';
import type { Logger } from '../observe/log.js';
import type { Registry } from '../observe/metrics.js';
import { createParser, type LineParser } from '../parse/scan.js';
import type { Reject } from '../parse/record.js';
import { defaultFormat } from '../parse/format.js';
import { bundleDefaults } from '../source/bundles.js';
import { atOrBefore, ClickHouseAccessLogStore, type AccessLogStore, type RejectedLine } from '../sink/access-log.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';
import type { AccessLogRowWriter } from '../sink/rows.js';
import { AccessLogWriter, type DeadLetterSink, type WriterOptions } from '../sink/writer.js';
import type { BatchControl, LogBatch, LogMessage } from '../transport/types.js';
import { processorMetrics, type ProcessorMetrics } from './process-metrics.js';

export { processorMetrics, type ProcessorMetrics };

export interface ProcessorOptions extends WriterOptions {
  /** Log format (default combined). */
  format?: string;
  enrich?: EnrichOptions;
  /** Value of the site column (default: the line's vhost). */
  site?: string | undefined;
  /** Row layout: 'modern' or 'legacy' (the ClickHouse 18.x test schema); default: the connection's dialect. */
  dialect?: 'modern' | 'legacy';
  /** Longer lines become line_too_long rejects holding their first bytes, as in the shipper (default 65,536). */
  maxLineBytes?: number;
  /** Log "caught up" the first time every partition is consumed to its end (default true; the in-process queue of `weblog run` catches up with its shipper all the time). */
  logCaughtUp?: boolean;
}

/** The processor's defaults, in one place (the CLI shows them); the write's are the writer's. */
export const processorDefaults = {
  format: defaultFormat,
  maxLineBytes: bundleDefaults.maxLineBytes,
} as const;

export interface ProcessorDeps {
  log: Logger;
  registry: Registry;
  /** Where rejected lines are also sent (the dead-letter topic), if anywhere. */
  dlq?: DeadLetterSink | undefined;
}

/** What turns a line into a record: built and checked before any connection (see Processor.stages). */
export interface LineStages {
  parse: LineParser;
  enricher: Enricher;
}

/** Bytes of an over-long line kept in its reject (as the shipper's preview). */
const TOO_LONG_PREVIEW = 256;

/** The reject of a line the shipper flagged, or one over --max-line-bytes; undefined: parse it. */
function shipperReject(msg: LogMessage, maxLine: number): Reject | undefined {
  const v = msg.value;
  if (msg.rejectReason)
    return {
      line: v,
      reason: msg.rejectReason,
      detail:
        msg.rejectReason === 'trailing_garbage'
          ? 'bytes after the end of the gzip data (gzip -d ignores them with a warning); the line describes them, the source offset is where they begin in the compressed object'
          : `the shipper could not send this line whole (${msg.rejectReason}); the line holds its first bytes`,
    };
  // UTF-8 takes at least one byte per UTF-16 unit and at most three: count bytes only when it can matter.
  if (v.length > maxLine || (v.length * 3 > maxLine && Buffer.byteLength(v) > maxLine))
    return {
      line: v.slice(0, TOO_LONG_PREVIEW),
      reason: 'line_too_long',
      detail: `the line is ${Buffer.byteLength(v)} bytes, over the ${maxLine} of --max-line-bytes; the line holds its first ${TOO_LONG_PREVIEW} characters`,
    };
  return undefined;
}

export class Processor {
  /** The first lines the parser rejected (at most 20), to tell a wrong --format from a few bad lines. */
  readonly rejectSamples: string[] = [];
  private readonly rowWriter: AccessLogRowWriter;
  private readonly maxLine: number;
  /** Privacy mode: addresses in rejects and logged samples are masked. */
  private readonly private: boolean;

  private constructor(
    private readonly writer: AccessLogWriter,
    private readonly parse: LineParser,
    private readonly enricher: Enricher,
    private readonly opts: ProcessorOptions,
    private readonly log: Logger,
    readonly metrics: ProcessorMetrics,
  ) {
    this.rowWriter = writer.rowWriter(opts.site);
    this.maxLine = opts.maxLineBytes ?? processorDefaults.maxLineBytes;
    this.private = opts.enrich?.privacyKey !== undefined;
  }

  /**
   * The parser and enricher of `opts`: everything that needs no server (the
   * format, the GeoIP files). Jobs build them before the first connection, so
   * a wrong --format fails in milliseconds, not after a wait for Kafka.
   */
  static async stages(opts: ProcessorOptions): Promise<LineStages> {
    return { parse: createParser(opts.format ?? processorDefaults.format), enricher: await createEnricher(opts.enrich) };
  }

  /** A processor writing to the access_log and rejects tables of `ch`. */
  static async create(ch: ClickHouse, opts: ProcessorOptions, deps: ProcessorDeps, stages?: LineStages): Promise<Processor> {
    await ch.detect(); // the row layout follows the server's dialect
    return Processor.withStore(new ClickHouseAccessLogStore(ch, opts.dialect ?? ch.dialect), opts, deps, stages);
  }

  /** A processor writing to any store (tests use a fake one). */
  static async withStore(store: AccessLogStore, opts: ProcessorOptions, deps: ProcessorDeps, stages?: LineStages): Promise<Processor> {
    const { parse, enricher } = stages ?? (await Processor.stages(opts));
    const metrics = processorMetrics(deps.registry);
    const writer = new AccessLogWriter(store, opts, deps.log, metrics, deps.dlq);
    return new Processor(writer, parse, enricher, opts, deps.log, metrics);
  }

  /** After a (re)assignment the stored offsets must be read again: another replica may have written. */
  onAssignment(): void {
    this.writer.forget();
  }

  /** Not healthy while writes wait for ClickHouse (down, hung, disk full): /healthz answers 503. */
  health(): { ok: boolean; detail: string } {
    return this.writer.health();
  }

  /** Handles one partition batch; resolves when everything in it is stored. */
  async handleBatch(batch: LogBatch, ctl: BatchControl): Promise<void> {
    const { topic, partition, messages } = batch;
    if (messages.length === 0) {
      this.noteLag(batch); // transaction markers only: nothing to store
      return;
    }
    this.metrics.consumed.inc(undefined, messages.length);
    this.metrics.batchRows.observe(messages.length);
    // Lines the table holds already (a redelivery) are skipped before the costly enrichment.
    const stored = await this.writer.storedFrom(topic, partition, (messages[0] as LogMessage).offset, ctl);
    let bytes = 0;
    for (const m of messages) bytes += m.value.length;
    const rows = this.rowWriter.newBuffer(bytes * 2 + messages.length * 200); // enriched rows run about 1.6x the raw line
    const rejects: RejectedLine[] = [];
    let skipped = 0;
    for (const msg of messages) {
      const early = shipperReject(msg, this.maxLine);
      const res: ReturnType<LineParser> = early ? { ok: false, reject: early } : this.parse(msg.value);
      if (res.ok) {
        if (atOrBefore(msg.offset, msg.line, stored.rows)) {
          skipped++;
          continue;
        }
        const rec = this.enricher.enrich(res.record);
        this.rowWriter.write(rows, rec, { source: msg.source, sourceOffset: msg.sourceOffset, topic, partition, offset: msg.offset, line: msg.line });
      } else if (!atOrBefore(msg.offset, msg.line, stored.rejects)) {
        // Privacy mode: the stored line and detail, and the samples logged, have their addresses masked.
        const reject = this.private ? maskReject(res.reject) : res.reject;
        rejects.push({ msg, reject });
        if (this.rejectSamples.length < 20 && !early && reject.reason !== 'empty_line') this.rejectSamples.push(this.private ? maskIps(msg.value) : msg.value);
      } else skipped++;
    }
    if (skipped) this.metrics.skipped.inc(undefined, skipped);
    await this.writer.write({ topic, partition, rows, rejects, lines: messages, stored }, ctl);
    // The batch's oldest line waited longest (a partition's fetches are gathered into one batch).
    this.metrics.freshness.observe(Math.max(0, Date.now() - (messages[0] as LogMessage).timestamp) / 1000);
    this.noteLag(batch);
  }

  private caughtUp = false;

  /** Real lag (markers count as consumed); "caught up" is logged once, when every partition seen is at its end. */
  private noteLag(batch: LogBatch): void {
    const lag = Math.max(0, batch.highWatermark - batch.lastOffset - 1);
    this.metrics.lag.set(lag, { topic: batch.topic, partition: batch.partition });
    if (!this.caughtUp && this.opts.logCaughtUp !== false && lag === 0 && this.metrics.lag.all().every((l) => l === 0)) {
      this.caughtUp = true;
      this.log.info('caught up: every assigned partition is consumed to its end', {
        lines: this.metrics.consumed.total(),
        rows: this.metrics.inserted.total(),
        rejects: this.metrics.rejected.total(),
      });
    }
  }
}
