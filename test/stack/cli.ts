/**
 * npm run stack -- up | down | status | install
 *
 * Starts Kafka, ClickHouse and an S3 server on 127.0.0.1 for the tests and
 * benchmarks; `up` is idempotent, `down` stops by saved PID.
 */
import { down, install, status, up } from './stack.js';

const usage = 'usage: npm run stack -- up | down | status | install';

async function main(cmd: string | undefined): Promise<number> {
  switch (cmd) {
    case 'up': {
      const { endpoints } = await up();
      process.stdout.write(JSON.stringify(endpoints, null, 2) + '\n');
      return 0;
    }
    case 'down':
      await down();
      process.stdout.write('stack stopped\n');
      return 0;
    case 'status':
      process.stdout.write((await status()).join('\n') + '\n');
      return 0;
    case 'install':
      install();
      return 0;
    default:
      process.stderr.write(`${usage}\n`);
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`stack: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
