/**
 * npm run bench -- [parse|clickhouse|process|ship|all] [--lines N]
 * Each benchmark states its question in bench/README.md and prints a table
 * with a baseline measured in the same run.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchParse } from './parse.js';

const { values, positionals } = parseArgs({ options: { lines: { type: 'string' } }, allowPositionals: true });
const which = positionals[0] ?? 'parse';
const lines = values.lines ? Number(values.lines) : undefined;

console.log(`weblog benchmarks: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${new Date().toISOString()}\n`);
if (which === 'parse' || which === 'all') {
  console.log(`## parse (one core, ${lines ?? 1_000_000} lines)\n`);
  console.log(await benchParse(lines ?? 1_000_000));
  console.log();
}
