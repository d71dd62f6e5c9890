/**
 * npm run stack -- up [--cluster] | down | status | install
 *
 * Starts Kafka, ClickHouse and an S3 server on 127.0.0.1 for the tests and
 * benchmarks (with --cluster or WEBLOG_STACK_CLUSTER=1 also ZooKeeper and two
 * ClickHouse replicas of one shard); `up` is idempotent, `down` stops all by
 * saved PID.
 */
import { clusterStatus, down, downCluster, install, status, up, upCluster } from './stack.js';

const usage = 'usage: npm run stack -- up [--cluster] | down | status | install';

async function main(cmd: string | undefined, flags: string[]): Promise<number> {
  const cluster = flags.includes('--cluster') || process.env.WEBLOG_STACK_CLUSTER === '1';
  switch (cmd) {
    case 'up': {
      const { endpoints } = await up();
      const out: Record<string, unknown> = { ...endpoints };
      if (cluster) out.cluster = (await upCluster()).endpoints;
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return 0;
    }
    case 'down':
      await downCluster();
      await down();
      process.stdout.write('stack stopped\n');
      return 0;
    case 'status':
      process.stdout.write([...(await status()), ...(await clusterStatus())].join('\n') + '\n');
      return 0;
    case 'install':
      install();
      return 0;
    default:
      process.stderr.write(`${usage}\n`);
      return 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`stack: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
