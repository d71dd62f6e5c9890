/** `weblog migrate`: apply the schema migrations. */
import { WeblogError } from '../../errors.js';
import { migrate } from '../../schema/migrate.js';
import { parseRawTtl, setRawTtl } from '../../schema/retention.js';
import { MIN_SERVER_VERSION } from '../../sink/clickhouse/types.js';
import { defineCommand } from '../options.js';
import { withClickHouse } from '../../app/clickhouse.js';
import { migrationCluster } from '../../schema/cluster.js';
import { clickhouseConfig, clickhouseOptions, clusterOptions } from '../option-groups.js';

export const migrateCommand = defineCommand({
  name: 'migrate',
  summary: 'Create or update the ClickHouse schema (tables, rollups, views).',
  usage: 'weblog migrate [--clickhouse URL [--cluster NAME] | --embedded DIR] [--database NAME]',
  options: [
    ...clickhouseOptions,
    ...clusterOptions.filter((o) => o.name !== 'insert-quorum'),
    { name: 'schema-dir', type: 'string', arg: 'DIR', description: 'migrations folder (default: the bundled clickhouse-schema/migrations)' },
    {
      name: 'raw-ttl',
      type: 'string',
      arg: '30d|12w|off',
      description:
        'keep raw rows (access_log, rejects) this long, the rollups for ever; off: keep everything; given again, it changes the TTL (default: leave it as it is)',
    },
  ],
  notes:
    'Idempotent: applies only migrations not yet recorded in schema_migrations, and refuses a\ndatabase whose recorded history differs from the files.\n' +
    'With --cluster: DDL ON CLUSTER, Replicated*MergeTree local tables (TABLE_local) under Distributed tables (TABLE),\nthe history replicated to every node. Workers on a cluster only check the schema; run this first.',
  async run(opts) {
    const cfg = clickhouseConfig({ ...opts, 'insert-quorum': '1' });
    const rawTtl = opts['raw-ttl'] === undefined || opts['raw-ttl'] === '' ? undefined : parseRawTtl(String(opts['raw-ttl']));
    if (rawTtl !== undefined && cfg.cluster)
      throw new WeblogError('CONFIG_INVALID', '--raw-ttl is not supported with --cluster yet; set the TTL on each TABLE_local ON CLUSTER');
    return withClickHouse(cfg, {}, async (ch) => {
      await ch.detect();
      if (ch.dialect === 'legacy' && !opts['schema-dir']) {
        process.stderr.write(
          `${ch.describe()} is ClickHouse ${ch.version}: applying the legacy test schema (clickhouse-schema/legacy-18.16); weblog's schema and reports need ${MIN_SERVER_VERSION} or newer\n`,
        );
      }
      const res = await migrate(ch, {
        ...(opts['schema-dir'] ? { dir: String(opts['schema-dir']) } : {}),
        cluster: migrationCluster(cfg),
        log: (m) => process.stderr.write(`${m}\n`),
      });
      process.stdout.write(
        `${ch.describe()}: ${res.applied.length} applied${res.applied.length ? ` (${res.applied.join(', ')})` : ''}, ${res.alreadyApplied.length} already applied\n`,
      );
      if (rawTtl !== undefined) {
        await setRawTtl(ch, rawTtl);
        process.stdout.write(rawTtl > 0 ? `raw rows (access_log, rejects) kept ${rawTtl} days; rollups kept\n` : 'raw rows kept without limit\n');
      }
      return 0;
    });
  },
});
