/** The `weblog` command line: dispatches to subcommands. */
import { readFileSync } from 'node:fs';
import { describeError, WeblogError } from '../errors.js';
import { helpText, parseOptions } from './options.js';
import { commands } from './commands/index.js';

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function mainHelp(): string {
  const rows = commands.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join('\n');
  return `weblog ${version()}: real-time web-server access-log analytics (S3 -> Kafka -> ClickHouse)

Usage: weblog <command> [options]

Commands:
${rows}

Run 'weblog <command> --help' for its options. Exit codes: 0 done, 1 failure, 2 usage error.
`;
}

// The AWS SDK warns once per process that its 2027 releases need Node 22;
// that is not actionable for weblog users on Node 20.
const defaultWarningListeners = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.message.includes('NodeVersionSupportWarning') || w.name === 'NodeVersionSupportWarning') return;
  for (const l of defaultWarningListeners) l(w);
});

// `weblog parse big.log | head` closes our stdout early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v' || name === '-V' || name === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`weblog: unknown command "${name}"; commands: ${commands.map((c) => c.name).join(', ')}\n`);
    return 2;
  }
  try {
    const { opts, positionals } = parseOptions(cmd, rest, process.env, commands);
    if (opts.help) {
      process.stdout.write(helpText(cmd));
      return 0;
    }
    return await cmd.run(opts as never, positionals); // parseOptions checked every value against the command's own table
  } catch (err) {
    process.stderr.write(`weblog ${cmd.name}: ${describeError(err)}\n`);
    return err instanceof WeblogError ? err.exitCode : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit once stdout is flushed: an idle keep-alive socket must not hold a finished command open.
    process.exitCode = code;
    if (process.stdout.writableLength === 0) process.exit(code);
    process.stdout.once('drain', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`weblog: ${describeError(err)}\n`);
    process.exitCode = 1;
  },
);
