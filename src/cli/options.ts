/**
 * A small option table shared by every subcommand: one place that parses
 * flags, falls back to environment variables, validates types and prints
 * `--help` with defaults and units. Flags win over the environment.
 */
import { parseArgs } from 'node:util';
import { WeblogError } from '../errors.js';
import { readConfigFile, type FileValue } from './config-file.js';

export interface OptionSpec {
  name: string;
  type: 'string' | 'number' | 'boolean';
  description: string;
  default?: string | number | boolean;
  unit?: string;
  /** Environment variables read when the flag is absent, first match wins. */
  env?: readonly string[];
  short?: string;
  /** Value placeholder shown in help, e.g. PATH. */
  arg?: string;
  /** Numbers: smallest accepted value (default 0). Every number option takes whole numbers. */
  min?: number;
  /** Numbers: largest accepted value (default 2^53 - 1). */
  max?: number;
  /**
   * Options whose environment variables this flag overrides when given on the
   * command line (`--embedded DIR` beats a CLICKHOUSE_URL in the environment).
   */
  overrides?: readonly string[];
  /** Strings: the flag may be given several times; the value is every one of them, in order (the environment and the config file give one). */
  multiple?: boolean;
}

type ValueOf<O extends OptionSpec> = O extends { multiple: true }
  ? string[]
  : O['type'] extends 'number'
    ? number
    : O['type'] extends 'boolean'
      ? boolean
      : string;

/**
 * The parsed options of a table, typed from the table itself: a number option
 * is a number, a boolean a boolean, and an option without a default may be
 * undefined. A name the table lacks does not compile.
 */
export type OptionValues<T extends readonly OptionSpec[]> = readonly OptionSpec[] extends T
  ? ParsedOptions // an untyped table
  : { [O in T[number] as O['name']]: O extends { default: string | number | boolean } | { multiple: true } ? ValueOf<O> : ValueOf<O> | undefined } & {
      help?: boolean;
    };

export interface CommandSpec<T extends readonly OptionSpec[] = readonly OptionSpec[]> {
  name: string;
  summary: string;
  usage: string;
  options: T;
  /** Free text after the option list. */
  notes?: string;
  run(opts: OptionValues<T>, positionals: string[]): Promise<number>;
}

/** Any command, its options' types erased: what the dispatcher, the parser and the help need. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: readonly OptionSpec[];
  notes?: string;
  run(opts: never, positionals: string[]): Promise<number>;
}

/** A command whose `run` gets its options typed from its table (see OptionValues). */
export function defineCommand<const T extends readonly OptionSpec[]>(spec: CommandSpec<T>): CommandSpec<T> {
  return spec;
}

export type ParsedOptions = Record<string, string | number | boolean | string[] | undefined>;

export function envName(name: string): string {
  return `WEBLOG_${name.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Parses `argv` for `cmd`. Each option comes from its flag, else its
 * environment variables, else the configuration file (`--config FILE` or
 * WEBLOG_CONFIG; `all` lists every command, for the file's sections), else
 * its default.
 */
export function parseOptions(
  cmd: Command,
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  all: readonly Command[] = [cmd],
): { opts: ParsedOptions; positionals: string[] } {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
    config: { type: 'string' },
  };
  for (const o of cmd.options) {
    config[o.name] = { type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
    if (o.type === 'boolean') config[`no-${o.name}`] = { type: 'boolean' };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
  } catch (err) {
    throw new WeblogError('CONFIG_INVALID', `${(err as Error).message.replace(/\. To specify.*$/s, '')}; see 'weblog ${cmd.name} --help'`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const opts: ParsedOptions = { help: values.help === true };
  const configFile = typeof values.config === 'string' ? values.config : env.WEBLOG_CONFIG || undefined;
  const fromFile = configFile && !opts.help ? readConfigFile(configFile, cmd, all) : new Map<string, FileValue>();
  if (configFile) opts.config = configFile; // for commands that read a structured key of it (alert-rules)
  // Flags win over the environment, also over the environment of an option they replace.
  const envIgnored = new Set(cmd.options.filter((o) => values[o.name] !== undefined).flatMap((o) => o.overrides ?? []));
  for (const o of cmd.options) {
    const given = values[o.name];
    if (Array.isArray(given)) {
      opts[o.name] = given;
      continue;
    }
    let raw: string | boolean | undefined = given;
    let from = `--${o.name}`;
    if (o.type === 'boolean' && values[`no-${o.name}`] === true) raw = false;
    if (raw === undefined && !envIgnored.has(o.name)) {
      for (const e of [envName(o.name), ...(o.env ?? [])]) {
        if (env[e] !== undefined && env[e] !== '') {
          raw = env[e];
          from = e;
          break;
        }
      }
    }
    if (raw === undefined && fromFile.has(o.name)) {
      const v = fromFile.get(o.name) as FileValue;
      raw = typeof v === 'boolean' ? v : String(v);
      from = `${configFile}: ${o.name}`;
    }
    if (raw === undefined) {
      opts[o.name] = o.multiple ? [] : o.default;
      continue;
    }
    opts[o.name] = o.multiple ? [String(coerce(o, raw, from))] : coerce(o, raw, from);
  }
  return { opts, positionals: parsed.positionals };
}

function coerce(o: OptionSpec, raw: string | boolean, from: string): string | number | boolean {
  if (o.type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new WeblogError('CONFIG_INVALID', `${from}: expected true or false, got "${raw}"`);
  }
  if (typeof raw === 'boolean') throw new WeblogError('CONFIG_INVALID', `${from}: expects a value`);
  if (o.type === 'number') {
    const n = Number(raw);
    const min = o.min ?? 0;
    const max = o.max ?? Number.MAX_SAFE_INTEGER;
    // Checked here, at start: 0 rows per INSERT spun, 0 partitions at once hung, 1e18 overflowed later.
    if (raw.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new WeblogError(
        'CONFIG_INVALID',
        `${from}: expected a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}${o.unit ? ` (${o.unit})` : ''}, got "${raw}"`,
      );
    }
    return n;
  }
  return raw;
}

export function helpText(cmd: Command): string {
  const rows = cmd.options.map((o) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.type === 'boolean' ? '' : ` ${o.arg ?? (o.type === 'number' ? 'N' : 'VALUE')}`}`;
    const bits = [o.description];
    if (o.unit) bits.push(`unit: ${o.unit}`);
    if (o.multiple) bits.push('repeatable');
    if (o.default !== undefined && o.default !== '') bits.push(`default: ${String(o.default)}`);
    bits.push(`env: ${[envName(o.name), ...(o.env ?? [])].join(', ')}`);
    return [flag, bits.join('; ')] as const;
  });
  rows.push(['    --config FILE', 'options from a YAML or JSON file (keys named like the options; flags and the environment win); env: WEBLOG_CONFIG']);
  rows.push(['-h, --help', 'show this help']);
  const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)) + 2);
  // A flag wider than the column gets its description on the next line, never glued to it.
  const body = rows.map(([f, d]) => (f.length + 2 > width ? `  ${f}\n  ${' '.repeat(width)}${d}` : `  ${f.padEnd(width)}${d}`)).join('\n');
  return `${cmd.summary}\n\nUsage: ${cmd.usage}\n\nOptions:\n${body}\n${cmd.notes ? `\n${cmd.notes}\n` : ''}`;
}
