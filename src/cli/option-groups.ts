/**
 * The option groups several commands share, and how each maps onto the typed
 * config of a job (src/pipeline/jobs.ts). Defaults come from the components
 * themselves (kafkaDefaults, defaultDataDir, ...), so each is written once.
 * Commands import from here, never from each other.
 */
import { serveDefaults, type ServeOptions } from '../dashboard/server.js';
import { WeblogError } from '../errors.js';
import { checkClusterOptions, defaultKeeperPath } from '../schema/cluster.js';
import type { EnrichOptions } from '../enrich/index.js';
import { defaultPrivacyKeyFile, loadPrivacyKey } from '../enrich/privacy.js';
import { createLogger, type Level, type Logger } from '../observe/log.js';
import { namedFormats } from '../parse/format.js';
import type { WorkerConfig } from '../app/jobs.js';
import { processorDefaults } from '../pipeline/process.js';
import { shipDefaults } from '../pipeline/ship.js';
import { httpDefaults } from '../sink/clickhouse/http.js';
import { workerDefaults } from '../app/worker.js';
import { defaultDataDir, type ClickHouseConfig } from '../sink/clickhouse/open.js';
import { clickhouseDefaults } from '../sink/clickhouse/types.js';
import type { SourceConfig } from '../source/open.js';
import { sourceTimeoutDefaults } from '../source/timeouts.js';
import { kafkaDefaults, type KafkaTransportConfig } from '../transport/kafka-transport.js';
import { checkKafkaAuth } from '../transport/kafka.js';
import type { OptionSpec, ParsedOptions } from './options.js';

const str = (v: unknown): string | undefined => (v === undefined || v === '' ? undefined : String(v));

// ------------------------------------------------------------------ ClickHouse
export const clickhouseOptions = [
  {
    name: 'clickhouse',
    type: 'string',
    arg: 'URL',
    env: ['CLICKHOUSE_URL'],
    description: 'ClickHouse server over HTTP, e.g. http://user:pass@host:8123 (default: embedded)',
  },
  {
    name: 'embedded',
    type: 'string',
    arg: 'DIR',
    default: defaultDataDir,
    overrides: ['clickhouse'],
    description: 'data folder of the embedded ClickHouse (chdb), used when no --clickhouse is given (given as a flag, it beats CLICKHOUSE_URL)',
  },
  { name: 'database', type: 'string', default: 'weblog', arg: 'NAME', description: 'ClickHouse database' },
  {
    name: 'request-timeout-ms',
    type: 'number',
    default: httpDefaults.requestTimeoutMs,
    min: 1000,
    max: 3_600_000,
    unit: 'ms',
    description: 'longest wait for one ClickHouse request (with --clickhouse); a hung server is retried after it',
  },
] as const satisfies OptionSpec[];

/** A ClickHouse cluster (migrate, process, run). */
export const clusterOptions = [
  {
    name: 'cluster',
    type: 'string',
    arg: 'NAME',
    env: ['CLICKHOUSE_CLUSTER'],
    description: 'ClickHouse cluster (remote_servers): replicated tables ON CLUSTER, Distributed tables; only `weblog migrate` applies its DDL',
  },
  {
    name: 'keeper-path',
    type: 'string',
    default: defaultKeeperPath,
    arg: 'PATH',
    description: 'Keeper path of each replicated table ({database} and {table} filled by weblog, {shard} by the servers) (with --cluster)',
  },
  {
    name: 'insert-quorum',
    type: 'string',
    default: 'auto',
    arg: 'auto|N',
    description: 'replicas that must hold each INSERT before it counts; auto: 2 where every shard has 2+ replicas (with --cluster)',
  },
] as const satisfies OptionSpec[];

export function clickhouseConfig(opts: ParsedOptions): ClickHouseConfig {
  const base = {
    url: str(opts.clickhouse),
    embedded: str(opts.embedded) ?? defaultDataDir,
    database: str(opts.database) ?? clickhouseDefaults.database,
    requestTimeoutMs: Number(opts['request-timeout-ms'] ?? httpDefaults.requestTimeoutMs),
  };
  const cluster = str(opts.cluster);
  if (cluster === undefined) return base;
  const q = String(opts['insert-quorum'] ?? 'auto');
  if (q !== 'auto' && !/^[1-9]\d?$/.test(q))
    throw new WeblogError('CONFIG_INVALID', `--insert-quorum: expected auto or a number of replicas (1-99), got "${q}"`);
  const keeperPath = String(opts['keeper-path'] ?? defaultKeeperPath);
  checkClusterOptions({ name: cluster, database: base.database, keeperPath });
  return { ...base, cluster: { name: cluster, keeperPath, insertQuorum: q === 'auto' ? 'auto' : Number(q) } };
}

// ------------------------------------------------------------------ source
export const sourceOptions = [
  { name: 'source', type: 'string', arg: 'URI', description: 's3://bucket/prefix, or file:///path/to/dir-or-glob (e.g. file:///var/log/nginx/access*.log*)' },
  {
    name: 'endpoint',
    type: 'string',
    arg: 'URL',
    env: ['S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'],
    description: 'S3-compatible endpoint (MinIO, s3proxy, ...); default: AWS',
  },
  { name: 'region', type: 'string', arg: 'NAME', env: ['AWS_REGION'], default: 'us-east-1', description: 'S3 region' },
  { name: 'include', type: 'string', arg: 'REGEX', description: 'ship only keys matching this regular expression' },
  { name: 'order', type: 'string', default: 'key', arg: 'key|modified', description: 'order objects by key or by last-modified time' },
  {
    name: 'source-timeout-ms',
    type: 'number',
    default: sourceTimeoutDefaults.timeoutMs,
    min: 100,
    max: 3_600_000,
    unit: 'ms',
    description:
      'S3 and SQS: a request that gets no byte from the server for this long (beyond a long poll) is given up and retried, so a hung server cannot stall the shipper',
  },
  { name: 'follow', type: 'boolean', default: false, description: 'keep polling for new objects and appended lines (real time)' },
  { name: 'poll-interval-ms', type: 'number', default: shipDefaults.pollIntervalMs, min: 10, unit: 'ms', description: 'poll interval with --follow' },
  {
    name: 'max-line-bytes',
    type: 'number',
    default: shipDefaults.maxLineBytes,
    min: 256,
    max: 268435456,
    unit: 'bytes',
    description: 'longer lines are sent as rejects (line_too_long), never cut silently',
  },
] as const satisfies OptionSpec[];

/** What to do with objects recorded as failed (a truncated or corrupt gzip, an unreadable file). */
export const failedObjectOptions = [
  { name: 'retry-failed', type: 'boolean', default: false, description: 'try objects recorded as failed again (from where they failed)' },
  {
    name: 'skip-failed',
    type: 'boolean',
    default: false,
    description: 'give up on objects recorded as failed: no longer reported (their lines read before the fault stay stored)',
  },
] as const satisfies OptionSpec[];

/** The source options as a SourceConfig (openSource checks them and names the option that is wrong). */
export function sourceConfig(opts: ParsedOptions): SourceConfig {
  const order = (str(opts.order) ?? 'key') as SourceConfig['order'];
  return {
    uri: str(opts.source) ?? '',
    endpoint: str(opts.endpoint),
    region: str(opts.region),
    include: str(opts.include),
    order,
    timeoutMs: typeof opts['source-timeout-ms'] === 'number' ? opts['source-timeout-ms'] : undefined,
  };
}

// ------------------------------------------------------------------ Kafka
/** Logging in to the brokers (managed Kafka); the password only from the environment. */
export const kafkaAuthOptions = [
  {
    name: 'kafka-sasl',
    type: 'string',
    arg: 'none|plain|scram-sha-256|scram-sha-512',
    env: ['KAFKA_SASL_MECHANISM'],
    description: 'SASL login to the brokers; the password comes from KAFKA_PASSWORD',
  },
  { name: 'kafka-user', type: 'string', arg: 'NAME', env: ['KAFKA_USERNAME'], description: 'SASL user name' },
  { name: 'kafka-tls', type: 'boolean', default: false, description: "TLS to the brokers (the system's certificate authorities)" },
] as const satisfies OptionSpec[];

export const kafkaOptions = [
  { name: 'brokers', type: 'string', arg: 'HOST:PORT,...', env: ['KAFKA_BROKERS'], description: 'Kafka bootstrap brokers (required)' },
  { name: 'topic', type: 'string', default: kafkaDefaults.topic, arg: 'NAME', description: 'topic of raw log lines' },
  ...kafkaAuthOptions,
] as const satisfies OptionSpec[];

/** Partitions of a topic this command creates. */
export const partitionsOption = {
  name: 'partitions',
  type: 'number',
  default: kafkaDefaults.partitions,
  min: 1,
  max: 10000,
  unit: 'partitions',
  description: 'partitions of the topics created here',
} as const satisfies OptionSpec;

/** The shipper's record-batch compression. */
export const compressionSpec = {
  name: 'compression',
  type: 'string',
  default: 'gzip',
  arg: 'gzip|none',
  description: 'compression of the record batches (gzip at level 1; none: less CPU, about 4x the bytes in Kafka)',
} as const satisfies OptionSpec;

function compressionOption(v: unknown): 'gzip' | 'none' {
  if (v === 'gzip' || v === 'none') return v;
  throw new WeblogError('CONFIG_INVALID', `--compression: expected gzip or none, got "${String(v)}"`);
}

export function brokersOf(opts: ParsedOptions): string[] {
  return String(opts.brokers ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/** The Kafka side of a job from the options a command has (absent ones keep the component's default). */
export function kafkaConfig(opts: ParsedOptions, log: Logger): KafkaTransportConfig {
  const n = (name: string) => (opts[name] === undefined ? undefined : Number(opts[name]));
  const consumer = {
    partitionsConcurrently: n('partitions-concurrently'),
    maxBytesPerPartition: n('max-batch-bytes'),
    maxBatchLines: n('max-batch-lines'),
    maxWaitTimeMs: n('flush-interval-ms'),
    sessionTimeoutMs: n('session-timeout-ms'),
  };
  const auth = checkKafkaAuth({
    sasl: str(opts['kafka-sasl']),
    username: str(opts['kafka-user']),
    password: process.env.KAFKA_PASSWORD,
    tls: opts['kafka-tls'] === true,
  });
  return {
    brokers: brokersOf(opts),
    auth,
    topic: str(opts.topic),
    group: str(opts.group),
    progressTopic: str(opts['progress-topic']),
    deadLetterTopic: opts['dead-letter-topic'] === undefined ? undefined : String(opts['dead-letter-topic']),
    createTopics: opts['create-topics'] !== false,
    ...(opts.compression === undefined ? {} : { compression: compressionOption(opts.compression) }),
    partitions: n('partitions'),
    consumer: Object.fromEntries(Object.entries(consumer).filter(([, v]) => v !== undefined)),
    log,
  };
}

// ------------------------------------------------------------------ parsing and enrichment
export const formatOption = {
  name: 'format',
  type: 'string',
  default: processorDefaults.format,
  arg: 'NAME|STRING',
  description: `log format: ${Object.keys(namedFormats).join(', ')}, or an nginx log_format / Apache LogFormat string`,
} as const satisfies OptionSpec;

export const enrichOptions = [
  { name: 'geoip', type: 'string', arg: 'PATH', description: 'MaxMind City/Country .mmdb (default: bundled DB-IP Lite)' },
  { name: 'asn', type: 'string', arg: 'PATH', description: 'MaxMind ASN .mmdb (default: none)' },
  { name: 'anonymize-ip', type: 'boolean', default: false, description: 'zero the last IPv4 octet / last 80 IPv6 bits before storing or hashing' },
  { name: 'visitor-salt', type: 'string', default: '', arg: 'TEXT', description: 'salt of visitor_id; rotate it to unlink visitors' },
  {
    name: 'privacy',
    type: 'boolean',
    default: false,
    description:
      'privacy mode: --anonymize-ip and --strip-query, no remote_user or X-Forwarded-For, addresses masked in rejects, visitor_id keyed by a secret daily salt from --privacy-key',
  },
  {
    name: 'privacy-key',
    type: 'string',
    arg: 'FILE',
    description:
      'the secret of --privacy (created, mode 0600, when missing; every replica needs the same file; never stored with the data); default: ~/.config/weblog/privacy.key',
  },
  {
    name: 'strip-query',
    type: 'boolean',
    default: false,
    description: 'drop query strings (of the request and the referer) before storing; path and referer domain stay',
  },
] as const satisfies OptionSpec[];

export function enrichConfig(opts: ParsedOptions): EnrichOptions {
  const keyFile = str(opts['privacy-key']);
  if (keyFile !== undefined && opts.privacy !== true) throw new WeblogError('CONFIG_INVALID', '--privacy-key is the key of --privacy; add --privacy');
  return {
    ...(opts.privacy === true ? { privacyKey: loadPrivacyKey(keyFile ?? defaultPrivacyKeyFile()) } : {}),
    anonymizeIp: opts['anonymize-ip'] === true,
    stripQuery: opts['strip-query'] === true,
    geoip: str(opts.geoip),
    asn: str(opts.asn),
    visitorSalt: String(opts['visitor-salt'] ?? ''),
  };
}

export const siteOption = {
  name: 'site',
  type: 'string',
  arg: 'NAME',
  description: 'value of the site column (default: the line vhost)',
} as const satisfies OptionSpec;

// ------------------------------------------------------------------ workers
/** Default metrics ports: one per kind of worker, so `ship` and `process` on one host do not collide. */
export const metricsPorts = { process: 9464, ship: 9465 } as const;

const workerOptions = [
  {
    name: 'metrics-port',
    type: 'number',
    default: metricsPorts.process,
    max: 65535,
    unit: 'TCP port, 0 = any free port',
    description: 'Prometheus /metrics and /healthz endpoint on 127.0.0.1',
  },
  { name: 'metrics', type: 'boolean', default: true, description: 'serve /metrics (--no-metrics to turn off)' },
  { name: 'shutdown-timeout-ms', type: 'number', default: workerDefaults.shutdownTimeoutMs, unit: 'ms', description: 'longest graceful stop before aborting' },
  { name: 'log-level', type: 'string', default: 'info', arg: 'debug|info|warn|error', description: 'log level (JSON lines on stderr)' },
] as const satisfies OptionSpec[];

/** The worker options with the metrics port default of one kind of worker; `run` serves metrics only on request. */
export function workerOptionsFor(kind: keyof typeof metricsPorts | 'run'): typeof workerOptions {
  // The same options (names and types), with this worker's defaults.
  return workerOptions.map((o) =>
    o.name === 'metrics-port'
      ? { ...o, default: kind === 'run' ? metricsPorts.process : metricsPorts[kind] }
      : o.name === 'metrics' && kind === 'run'
        ? { ...o, default: false, description: 'serve /metrics while running' }
        : o,
  ) as unknown as typeof workerOptions;
}

export function workerConfig(opts: ParsedOptions, name: string): WorkerConfig {
  const level = String(opts['log-level'] ?? 'info');
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    throw new WeblogError('CONFIG_INVALID', `--log-level: expected debug, info, warn or error, got "${level}"`);
  return {
    log: createLogger({ level: level as Level, name }),
    metricsPort: opts.metrics ? Number(opts['metrics-port']) : undefined,
    shutdownTimeoutMs: Number(opts['shutdown-timeout-ms']),
  };
}

// ------------------------------------------------------------------ dashboard
export const dashboardOptions = [
  {
    name: 'host',
    type: 'string',
    default: serveDefaults.host,
    arg: 'ADDR',
    description: 'address to listen on (loopback by default; read docs/dashboard.md before exposing it)',
  },
  { name: 'port', type: 'number', default: serveDefaults.port, max: 65535, unit: 'TCP port, 0 = any free port', description: 'port of the dashboard' },
  {
    name: 'refresh-ms',
    type: 'number',
    default: serveDefaults.refreshMs,
    min: 1000,
    max: 3_600_000,
    unit: 'ms',
    description: 'how often the live page reads the data again',
  },
  {
    name: 'allowed-host',
    type: 'string',
    arg: 'NAME,...',
    description: 'more Host names to answer on loopback (a proxy in front); others get 421, against DNS rebinding',
  },
] as const satisfies OptionSpec[];

export function serveConfig(opts: ParsedOptions, log?: Logger): ServeOptions {
  const allowed = (str(opts['allowed-host']) ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  return {
    host: String(opts.host),
    port: Number(opts.port),
    refreshMs: Number(opts['refresh-ms']),
    ...(allowed.length ? { allowedHosts: allowed } : {}),
    ...(log ? { log } : {}),
  };
}
