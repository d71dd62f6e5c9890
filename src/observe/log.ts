/**
 * Structured logs: one JSON object per line on stderr (level, time, msg and
 * fields), or a short human line when stderr is a TTY. Debug lines are not
 * even formatted unless enabled.
 */
import { stderrStatus } from './status-line.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  opts: { level?: Level; name?: string; out?: NodeJS.WritableStream; pretty?: boolean } = {},
  base: Record<string, unknown> = {},
): Logger {
  const min = order[opts.level ?? 'info'];
  // On stderr, lines go above the progress line of a TTY (status-line.ts).
  const out = opts.out === undefined || opts.out === process.stderr ? { write: (s: string) => stderrStatus.writeAbove(s) } : opts.out;
  const pretty = opts.pretty ?? (process.stderr.isTTY === true && !process.env.CI);
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (order[level] < min) return;
    if (pretty) {
      const extra = { ...base, ...fields };
      const kv = Object.entries(extra)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      out.write(`${new Date().toISOString().slice(11, 19)} ${level.toUpperCase().padEnd(5)} ${msg}${kv ? ` ${kv}` : ''}\n`);
    } else out.write(`${JSON.stringify({ level, time: new Date().toISOString(), ...(opts.name ? { name: opts.name } : {}), msg, ...base, ...fields })}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
