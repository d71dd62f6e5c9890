/**
 * npm run bench -- [parse|process|user-run|visits|ship|run-file|clickhouse|all] [--lines N] [--rounds R]; user-run [--current] (the current server, not 18.16) [--also="--max-batch-lines 1"] (a second weblog run with those options, each round); npm run bench -- ship-memory [--mb 1000];
 * npm run bench -- process-memory [--lines 10000000]; npm run bench -- listing [--objects 1000000]; npm run bench -- listing-s3 [--objects 100000] [--bucket EXISTING];
 * npm run bench -- ship-start [--objects 1000000]; npm run bench -- ship-encoder [--lines 1000000] [--rounds 3];
 * npm run bench -- insert-format [--lines 500000] [--rounds 3]; npm run bench -- embedded-insert [--lines 300000] [--rounds 3]; npm run bench -- live-cost [--current] [--seconds 30] [--rates 0,100,1000,10000] [--variants ';--flush-interval-ms 5000']
 * Each benchmark states its question in bench/README.md and prints a table
 * with a baseline measured in the same run.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchListing } from './listing.js';
import { benchListingS3 } from './listing-s3.js';
import { benchShipStart } from './ship-start.js';
import { benchShipEncoder } from './ship-encoder.js';
import { benchParse } from './parse.js';
import { benchProcess, benchProcessMemory } from './process.js';
import { benchShip, benchShipMemory } from './ship.js';
import { benchClickHouse } from './clickhouse.js';
import { benchRunFile } from './run-file.js';
import { benchUserRun } from './user-run.js';
import { benchVisits } from './visits.js';
import { benchInsertFormat } from './insert-format.js';
import { benchEmbeddedInsert } from './embedded-insert.js';
import { benchLiveCost } from './live-cost.js';

const { values, positionals } = parseArgs({
  options: {
    lines: { type: 'string' },
    mb: { type: 'string' },
    rounds: { type: 'string' },
    objects: { type: 'string' },
    bucket: { type: 'string' },
    current: { type: 'boolean' },
    seconds: { type: 'string' },
    rates: { type: 'string' },
    variants: { type: 'string' },
    also: { type: 'string' },
  },
  allowPositionals: true,
});
const which = positionals[0] ?? 'parse';
const lines = values.lines ? Number(values.lines) : undefined;

console.log(`weblog benchmarks: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${new Date().toISOString()}\n`);
if (which === 'parse' || which === 'all') {
  console.log(`## parse (one core, ${lines ?? 1_000_000} lines)\n`);
  console.log(await benchParse(lines ?? 1_000_000));
  console.log();
}
if (which === 'process' || which === 'all') {
  console.log(`## process\n`);
  console.log(await benchProcess(lines ?? 500_000));
  console.log();
}
if (which === 'user-run' || which === 'all') {
  console.log(`## user-run\n`);
  console.log(
    await benchUserRun(
      lines ?? 500_000,
      values.rounds ? Number(values.rounds) : 3,
      values.current === true,
      values.also ? values.also.split(' ').filter(Boolean) : [],
    ),
  );
  console.log();
}
if (which === 'visits' || which === 'all') {
  console.log(`## visits\n`);
  console.log(await benchVisits(lines ?? 10_000_000));
  console.log();
}
if (which === 'listing' || which === 'all') {
  console.log(`## listing\n`);
  console.log(await benchListing(values.objects ? Number(values.objects) : 1_000_000));
  console.log();
}
if (which === 'listing-s3') {
  console.log(`## listing-s3\n`);
  console.log(await benchListingS3(values.objects ? Number(values.objects) : 100_000, values.bucket));
  console.log();
}
if (which === 'ship-encoder') {
  console.log(`## ship-encoder\n`);
  console.log(await benchShipEncoder(lines ?? 1_000_000, values.rounds ? Number(values.rounds) : 3));
  console.log();
}
if (which === 'insert-format') {
  console.log(`## insert-format\n`);
  console.log(await benchInsertFormat(lines ?? 500_000, values.rounds ? Number(values.rounds) : 3));
  console.log();
}
if (which === 'embedded-insert') {
  console.log(`## embedded-insert\n`);
  console.log(await benchEmbeddedInsert(lines ?? 300_000, values.rounds ? Number(values.rounds) : 3));
  console.log();
}
if (which === 'live-cost') {
  console.log(`## live-cost\n`);
  const rates = (values.rates ?? '0,100,1000,10000').split(',').map(Number);
  const variants = values.variants !== undefined ? values.variants.split(';').map((v) => v.trim()) : [''];
  console.log(await benchLiveCost(values.seconds ? Number(values.seconds) : 30, rates, values.current === true, variants));
  console.log();
}
if (which === 'ship-start') {
  console.log(`## ship-start\n`);
  console.log(await benchShipStart(values.objects ? Number(values.objects) : 1_000_000));
  console.log();
}
if (which === 'process-memory') {
  console.log(`## process-memory\n`);
  console.log(await benchProcessMemory(lines ?? 10_000_000));
  console.log();
}
if (which === 'ship' || which === 'all') {
  console.log(`## ship\n`);
  console.log(await benchShip(lines ?? 1_000_000));
  console.log();
}
if (which === 'ship-memory') {
  console.log(`## ship-memory\n`);
  console.log(await benchShipMemory(values.mb ? Number(values.mb) : 1000));
  console.log();
}
if (which === 'run-file' || which === 'all') {
  console.log(`## run-file\n`);
  console.log(await benchRunFile(lines ?? 1_000_000));
  console.log();
}
if (which === 'clickhouse' || which === 'all') {
  console.log(`## clickhouse\n`);
  console.log(await benchClickHouse(lines ?? 1_000_000));
  console.log();
}
process.exit(0);
