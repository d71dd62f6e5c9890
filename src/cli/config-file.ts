/**
 * A configuration file for long-lived workers (`--config FILE`, or
 * WEBLOG_CONFIG), as Vector, Benthos and Kafka Connect are configured: YAML or
 * JSON, keys named like the long options. Top-level keys apply to every
 * command that has that option; a section named after a command applies to
 * it alone. A key no command knows is refused with its name. Flags and the
 * environment win over the file.
 *
 *   clickhouse: http://clickhouse:8123
 *   brokers: [kafka1:9092, kafka2:9092]
 *   process:
 *     group: weblog
 *     max-insert-rows: 100000
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { WeblogError } from '../errors.js';

export type FileValue = string | number | boolean;

export interface CommandOptionNames {
  name: string;
  options: readonly { name: string }[];
}

function value(file: string, key: string, v: unknown): FileValue | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(','); // brokers: [a, b]
  // The value is never echoed: a mapping under a URL key may hold a password.
  throw new WeblogError(
    'CONFIG_INVALID',
    `${file}: ${key}: expected a string, number, boolean or list, got ${Array.isArray(v) ? 'a list of other values' : `a ${typeof v === 'object' ? 'mapping' : typeof v}`}`,
  );
}

/** Largest configuration file read: a file of options is a few KB; /dev/zero grew memory without bound (8 GB in 21 s). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** The file's text, refusing anything but a regular file of at most MAX_CONFIG_BYTES. */
function readBounded(file: string): string {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO for reading waits for a writer, for ever.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new WeblogError('CONFIG_INVALID', `--config ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}: cannot open it`, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new WeblogError('CONFIG_INVALID', `--config ${file}: not a regular file (a device, FIFO or folder); give a YAML or JSON file`);
    if (st.size > MAX_CONFIG_BYTES)
      throw new WeblogError(
        'CONFIG_INVALID',
        `--config ${file}: ${st.size.toLocaleString('en-US')} bytes, over the limit of ${MAX_CONFIG_BYTES.toLocaleString('en-US')} bytes (1 MiB) for a configuration file`,
      );
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (n > MAX_CONFIG_BYTES)
      throw new WeblogError(
        'CONFIG_INVALID',
        `--config ${file}: over the limit of ${MAX_CONFIG_BYTES.toLocaleString('en-US')} bytes (1 MiB) for a configuration file`,
      );
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** Keys that hold structured values read by one feature, not options: alert-rules (src/alerts/rules.ts). */
export const structuredKeys = new Set(['alert-rules']);

/** The file's YAML (or JSON) document; a syntax error names the file and the first line of the parser's message. */
function readDoc(file: string): unknown {
  try {
    return parseYaml(readBounded(file));
  } catch (err) {
    if (err instanceof WeblogError) throw err;
    throw new WeblogError('CONFIG_INVALID', `--config ${file}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

/** A structured key's value in `file` (undefined when the file lacks it). */
export function readConfigValue(file: string, key: string): unknown {
  const doc = readDoc(file);
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>)[key] : undefined;
}

/** The values `command` takes from `file`, by option name. */
export function readConfigFile(file: string, command: CommandOptionNames, all: readonly CommandOptionNames[]): Map<string, FileValue> {
  const doc = readDoc(file);
  if (doc === null || doc === undefined) return new Map();
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new WeblogError('CONFIG_INVALID', `--config ${file}: expected keys and values (a mapping) at the top`);
  const anyCommand = new Set(all.flatMap((c) => c.options.map((o) => o.name)));
  const mine = new Set(command.options.map((o) => o.name));
  const out = new Map<string, FileValue>();
  const sections: [string, unknown][] = [];
  for (const [key, v] of Object.entries(doc as Record<string, unknown>)) {
    if (structuredKeys.has(key)) continue;
    const section = all.find((c) => c.name === key);
    if (section) {
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw new WeblogError('CONFIG_INVALID', `${file}: ${key}: expected the options of weblog ${key}`);
      for (const k of Object.keys(v)) {
        if (!section.options.some((o) => o.name === k)) throw new WeblogError('CONFIG_INVALID', `${file}: ${key}.${k}: weblog ${key} has no option --${k}`);
      }
      if (key === command.name) sections.push(...Object.entries(v));
      continue;
    }
    if (!anyCommand.has(key)) throw new WeblogError('CONFIG_INVALID', `${file}: unknown key "${key}": no weblog command has an option --${key}`);
    const val = value(file, key, v);
    if (mine.has(key) && val !== undefined) out.set(key, val);
  }
  // The command's own section wins over the top level.
  for (const [k, v] of sections) {
    const val = value(file, `${command.name}.${k}`, v);
    if (val !== undefined) out.set(k, val);
  }
  return out;
}
