/** `weblog ship`: stream log objects from S3 or local files into Kafka. */
import { WeblogError } from '../../errors.js';
import { runShip } from '../../app/jobs.js';
import {
  checkListing,
  listingDefaults,
  parseDurationMs,
  parseLookback,
  parseTimeBound,
  type ListingMode,
  type ListingOptions,
} from '../../pipeline/listing.js';
import { notifyDefaults } from '../../pipeline/notified.js';
import { shipDefaults } from '../../pipeline/ship.js';
import { parseSource } from '../../source/objects.js';
import { parseQueueUri } from '../../source/sqs.js';
import { kafkaDefaults } from '../../transport/kafka-transport.js';
import { shipGroupDefaults } from '../../transport/kafka-ship-group.js';
import { parseKafkaNotificationsUri } from '../../transport/kafka-notifications.js';
import {
  compressionSpec,
  failedObjectOptions,
  kafkaConfig,
  kafkaOptions,
  partitionsOption,
  sourceConfig,
  sourceOptions,
  workerConfig,
  workerOptionsFor,
} from '../option-groups.js';
import { defineCommand } from '../options.js';

export const shipCommand = defineCommand({
  name: 'ship',
  summary: 'Stream log objects (S3 or local files) into Kafka, bundles of lines per message, resumable.',
  usage: 'weblog ship --source s3://bucket/prefix|file:///path --brokers HOST:PORT [--topic weblog.raw] [--follow]',
  options: [
    ...sourceOptions,
    ...kafkaOptions,
    {
      name: 'progress-topic',
      type: 'string',
      default: kafkaDefaults.progressTopic,
      arg: 'NAME',
      description: 'compacted topic with the progress of every object',
    },
    {
      name: 'key',
      type: 'string',
      default: 'none',
      arg: 'none|source|ip',
      description: 'message key: none, the source object, or the client IP (first field; one line per message)',
    },
    {
      name: 'lines-per-message',
      type: 'number',
      default: shipDefaults.linesPerMessage,
      min: 1,
      max: 1_000_000,
      unit: 'lines',
      description: 'consecutive lines per Kafka message (1: each line alone, for consumers that expect that)',
    },
    {
      name: 'message-bytes',
      type: 'number',
      default: shipDefaults.messageBytes,
      min: 1024,
      max: 16 * 1024 * 1024,
      unit: 'bytes',
      description: "bytes per Kafka message (keep under the topic's max.message.bytes)",
    },
    compressionSpec,
    { name: 'batch-lines', type: 'number', default: shipDefaults.batchLines, min: 1, unit: 'lines', description: 'lines per Kafka transaction' },
    {
      name: 'ship-group',
      type: 'string',
      arg: 'NAME',
      description:
        'join the shipper group NAME (the Kafka consumer group weblog-shippers.NAME): shippers share the objects by slots and take over the objects of one that dies or leaves, with no restart of the others (instead of --replicas); needs --follow or --notifications',
    },
    {
      name: 'slots',
      type: 'number',
      default: shipGroupDefaults.slots,
      min: 1,
      max: 1000,
      description: 'with --ship-group: partitions of the work topic when it is created here, the most shippers that share the work',
    },
    {
      name: 'session-timeout-ms',
      type: 'number',
      default: shipGroupDefaults.sessionTimeoutMs,
      min: 6000,
      max: 300_000,
      unit: 'ms',
      description: "with --ship-group: how soon a dead shipper's objects move to the others",
    },
    { name: 'replica-index', type: 'number', default: shipDefaults.replicaIndex, description: 'this replica (0-based); objects are sharded by key hash' },
    { name: 'replicas', type: 'number', default: shipDefaults.replicas, min: 1, max: 10000, description: 'number of shipper replicas' },
    {
      name: 'listing',
      type: 'string',
      default: listingDefaults.mode,
      arg: 'auto|ordered|full',
      description:
        'S3: what each pass lists. ordered: from the last settled key on (keys that sort by time: ELB, CloudFront, S3 access logs, dated names); full: the whole prefix every pass (one LIST request per 1,000 objects); auto: ordered once a listing shows keys sorted by the time they name',
    },
    {
      name: 'lookback',
      type: 'string',
      default: '1h',
      arg: 'DURATION|N',
      description:
        'ordered listing: keys this much key time (or this many keys) behind the newest are listed again, for late arrivals; with --notifications: settled objects whose key time is older than this (a duration; else 1h) are forgotten from memory and read back from the progress topic if named again',
    },
    {
      name: 'reconcile',
      type: 'string',
      default: 'off',
      arg: 'DURATION|off',
      description:
        'ordered listing: list the whole prefix this often (e.g. 1h), for objects that arrive later than --lookback; with --notifications: a listing pass this often, for lost notifications',
    },
    {
      name: 'notifications',
      type: 'string',
      arg: 'sqs://QUEUE_URL|kafka://TOPIC',
      description:
        "S3 only: ship the objects that S3 event notifications in this SQS queue name (S3 event JSON, via SNS or EventBridge too), or in this topic on --brokers (MinIO's Kafka target), instead of listing; runs until stopped. Each message is deleted (a topic: its offset committed) once its objects are shipped",
    },
    {
      name: 'visibility',
      type: 'string',
      default: `${notifyDefaults.visibilitySeconds}s`,
      arg: 'DURATION',
      description: 'with --notifications: a received message stays hidden from other shippers this long, renewed while its object ships',
    },
    {
      name: 'max-receives',
      type: 'number',
      default: notifyDefaults.maxReceives,
      min: 1,
      max: 1000,
      description:
        "with --notifications: a malformed or foreign message is deleted after this many receives (kept for the queue's dead-letter queue if it has one)",
    },
    {
      name: 'since',
      type: 'string',
      arg: 'TIME',
      description:
        'ship objects whose key time (else last-modified time) is at or after TIME: 2026-12-01, 2026-12-01T06:00Z, or 7d (back from now); earlier ones are passed over (a later run with an earlier --since ships them)',
    },
    {
      name: 'until',
      type: 'string',
      arg: 'TIME',
      description:
        'ship objects whose key time (else last-modified time) is before TIME; a backfill: every pass lists the whole prefix, and the listing floor is left as it is',
    },
    {
      name: 'poll-max-ms',
      type: 'number',
      min: 10,
      unit: 'ms',
      description: `with --follow, the poll interval doubles while nothing is new, up to this (default ${shipDefaults.pollMaxMs} for S3; local folders keep --poll-interval-ms)`,
    },
    { name: 'list-page-size', type: 'number', default: 1000, min: 1, max: 1000, unit: 'keys', description: 'keys per S3 LIST request' },
    { name: 'reship-changed', type: 'boolean', default: true, description: 'ship an object again from the start when its ETag changed' },
    ...failedObjectOptions,
    { name: 'create-topics', type: 'boolean', default: kafkaDefaults.createTopics, description: 'create the topics if missing' },
    partitionsOption,
    ...workerOptionsFor('ship'),
  ],
  notes:
    'Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY), else the AWS SDK chain.\nLines and progress go out in one Kafka transaction: after kill -9 and restart each line is in the topic once.\nA message holds up to --lines-per-message consecutive lines of one object, each ending in LF, with the source headers once.',
  async run(opts) {
    const key = String(opts.key);
    if (key !== 'none' && key !== 'source' && key !== 'ip') throw new WeblogError('CONFIG_INVALID', `--key: expected none, source or ip, got "${key}"`);
    const worker = workerConfig(opts, 'weblog.ship');
    const replicas = opts.replicas;
    const index = opts['replica-index'];
    const kafka = kafkaConfig(opts, worker.log);
    const group = opts['ship-group'] === undefined ? undefined : String(opts['ship-group']);
    let mode = String(opts.listing) as ListingMode;
    if (mode !== 'auto' && mode !== 'ordered' && mode !== 'full')
      throw new WeblogError('CONFIG_INVALID', `--listing: expected auto, ordered or full, got "${mode}"`);
    if (opts.order === 'modified') {
      // Listing from a key needs objects in key order.
      if (mode === 'ordered') throw new WeblogError('CONFIG_INVALID', '--listing ordered lists in key order: it cannot go with --order modified');
      mode = 'full';
    }
    if (group !== undefined) {
      if (!/^[A-Za-z0-9._-]{1,200}$/.test(group))
        throw new WeblogError('CONFIG_INVALID', `--ship-group: letters, digits, '.', '_' and '-' only, got "${group}"`);
      if (replicas !== 1) throw new WeblogError('CONFIG_INVALID', '--ship-group shares the objects by itself: it cannot go with --replicas');
      if (!opts.follow && opts.notifications === undefined)
        throw new WeblogError(
          'CONFIG_INVALID',
          '--ship-group needs --follow or --notifications: a shipper that finishes and leaves hands its slots to the others',
        );
    }
    const reconcile = String(opts.reconcile);
    const reconcileMs = reconcile === 'off' ? undefined : parseDurationMs(reconcile);
    if (reconcile !== 'off' && reconcileMs === undefined)
      throw new WeblogError('CONFIG_INVALID', `--reconcile: expected a duration (30m, 1h, 1d) or off, got "${reconcile}"`);
    const now = Date.now();
    const source = sourceConfig(opts);
    const listing: ListingOptions = {
      mode,
      lookback: parseLookback(String(opts.lookback)),
      // With notifications, --reconcile times the passes; each pass is still ordered where keys sort by time.
      reconcileMs: opts.notifications === undefined ? reconcileMs : undefined,
      since: opts.since === undefined ? undefined : parseTimeBound('since', String(opts.since), now),
      until: opts.until === undefined ? undefined : parseTimeBound('until', String(opts.until), now),
    };
    const s3 = source.uri ? parseSource(source.uri).kind === 's3' : false;
    if (source.uri) checkListing(listing, s3);
    const notifications = opts.notifications === undefined ? undefined : String(opts.notifications);
    const visibilityMs = parseDurationMs(String(opts.visibility));
    if (visibilityMs === undefined || visibilityMs < 1000 || visibilityMs > 43_200_000 || visibilityMs % 1000 !== 0)
      throw new WeblogError('CONFIG_INVALID', `--visibility: expected whole seconds from 1s to 12h (30s, 5m), got "${String(opts.visibility)}"`);
    if (group !== undefined && source.uri && !s3)
      throw new WeblogError('CONFIG_INVALID', '--ship-group: shippers of a group share one S3 prefix; a local folder is shipped by the host that has it');
    if (notifications !== undefined) {
      if (source.uri && !s3) throw new WeblogError('CONFIG_INVALID', '--notifications: S3 event notifications name S3 objects; the source is a local folder');
      // Refused before connecting to anything.
      if (notifications.startsWith('kafka://')) {
        parseKafkaNotificationsUri(notifications);
        if (group !== undefined)
          throw new WeblogError(
            'CONFIG_INVALID',
            '--notifications kafka:// cannot go with --ship-group: every shipper reads the whole topic and ships its own share, which a group moves; use --replicas N, or an SQS queue',
          );
      } else parseQueueUri(notifications);
    }
    const summary = await runShip({
      source: { ...source, pageSize: opts['list-page-size'] },
      notifications,
      group: group === undefined ? undefined : { name: group, slots: opts.slots, sessionTimeoutMs: opts['session-timeout-ms'] },
      kafka: { ...kafka, transactionalId: `weblog-ship-${kafka.progressTopic ?? kafkaDefaults.progressTopic}-${index}-of-${replicas}` },
      ship: {
        key,
        batchLines: opts['batch-lines'],
        linesPerMessage: opts['lines-per-message'],
        messageBytes: opts['message-bytes'],
        maxLineBytes: opts['max-line-bytes'],
        replicaIndex: index,
        replicas,
        reshipChanged: opts['reship-changed'],
        retryFailed: opts['retry-failed'],
        skipFailed: opts['skip-failed'],
        follow: opts.follow,
        pollIntervalMs: opts['poll-interval-ms'],
        pollMaxMs: opts['poll-max-ms'],
        listing,
        notify: { visibilitySeconds: visibilityMs / 1000, maxReceives: opts['max-receives'], reconcileMs },
      },
      worker,
    });
    for (const f of summary.failedObjects) process.stderr.write(`weblog ship: failed: ${f.key}: ${f.reason}\n`);
    if (summary.failedObjects.length > 0)
      process.stderr.write(
        `weblog ship: ${summary.failedObjects.length} object(s) could not be read (the lines before the fault are shipped); fix them, or run again with --retry-failed or --skip-failed\n`,
      );
    return summary.failedObjects.length > 0 || summary.aborted ? 1 : 0;
  },
});
