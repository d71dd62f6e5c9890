/**
 * Where the local test stack lives and which ports it uses. Everything binds
 * to 127.0.0.1; state (data, logs, PIDs) goes to `.stack/` and downloaded jars
 * to `.cache/`, both git-ignored.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const stateDir = process.env.WEBLOG_STACK_DIR ?? path.join(repoRoot, '.stack');
export const cacheDir = process.env.WEBLOG_CACHE_DIR ?? path.join(repoRoot, '.cache');

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a TCP port (1-65535), got "${raw}"`);
  return n;
}

export const stackConfig = {
  /** Kafka version fetched from Maven Central (`org.apache.kafka:kafka_2.13`). */
  kafkaVersion: process.env.WEBLOG_STACK_KAFKA_VERSION ?? '3.9.1',
  kafkaPort: port('WEBLOG_STACK_KAFKA_PORT', 39092),
  kafkaControllerPort: port('WEBLOG_STACK_KAFKA_CONTROLLER_PORT', 39093),
  /** A SASL/PLAIN listener with ACLs (users below: weblog is a super user, nobody has no rights). */
  kafkaSaslPort: port('WEBLOG_STACK_KAFKA_SASL_PORT', 39094),
  kafkaUsers: { weblog: 'weblog-secret', nobody: 'nobody-secret' },
  clickhouseHttpPort: port('WEBLOG_STACK_CLICKHOUSE_PORT', 38123),
  clickhouseTcpPort: port('WEBLOG_STACK_CLICKHOUSE_TCP_PORT', 39100),
  /** The current ClickHouse server (26.7, chdb's library run as a server; see clickhouse-current.ts). */
  clickhouseCurrentHttpPort: port('WEBLOG_STACK_CLICKHOUSE_CURRENT_PORT', 38124),
  clickhouseCurrentTcpPort: port('WEBLOG_STACK_CLICKHOUSE_CURRENT_TCP_PORT', 39101),
  /** s3proxy version fetched from Maven Central (`org.gaul:s3proxy`). */
  s3proxyVersion: process.env.WEBLOG_STACK_S3PROXY_VERSION ?? '2.6.0',
  s3Port: port('WEBLOG_STACK_S3_PORT', 39200),
  /** ElasticMQ (an SQS-compatible server) fetched from Maven Central (`org.elasticmq:elasticmq-server_2.13`). */
  elasticmqVersion: process.env.WEBLOG_STACK_ELASTICMQ_VERSION ?? '1.6.14',
  sqsPort: port('WEBLOG_STACK_SQS_PORT', 39300),
  s3AccessKeyId: 'weblog',
  s3SecretAccessKey: 'weblog-secret-key',
  /** The cluster (`up --cluster`): ZooKeeper and two ClickHouse 18.16 replicas of one shard. */
  zookeeperPort: port('WEBLOG_STACK_ZOOKEEPER_PORT', 39181),
  /** Replica n (1, 2) listens on HTTP base+n, native TCP 39110+n, interserver 39120+n. */
  clusterHttpPortBase: port('WEBLOG_STACK_CLUSTER_HTTP_PORT_BASE', 38130),
  clusterName: 'weblog',
  clusterReplicas: 2,
  /** How long one service may take to become ready, in ms. */
  readyTimeoutMs: 120_000,
} as const;

/** The endpoints of a running stack, as tests and the CLI consume them. */
export interface Endpoints {
  kafkaBrokers: string[];
  /** A SASL/PLAIN listener with ACLs (user weblog: super user; nobody: no rights), where the servers have one. */
  kafkaSaslBrokers?: string[] | undefined;
  /** Debian's ClickHouse 18.16 (the legacy schema). */
  clickhouseUrl: string;
  /** A current ClickHouse server (the modern schema); undefined where none runs. */
  clickhouseCurrentUrl?: string | undefined;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  /** An SQS-compatible server (queue URLs are ENDPOINT/000000000000/NAME on ElasticMQ); undefined where none runs. */
  sqsEndpoint?: string | undefined;
}

export function localEndpoints(): Endpoints {
  return {
    kafkaBrokers: [`127.0.0.1:${stackConfig.kafkaPort}`],
    kafkaSaslBrokers: [`127.0.0.1:${stackConfig.kafkaSaslPort}`],
    clickhouseUrl: `http://127.0.0.1:${stackConfig.clickhouseHttpPort}`,
    clickhouseCurrentUrl: `http://127.0.0.1:${stackConfig.clickhouseCurrentHttpPort}`,
    sqsEndpoint: `http://127.0.0.1:${stackConfig.sqsPort}`,
    s3: {
      endpoint: `http://127.0.0.1:${stackConfig.s3Port}`,
      region: 'us-east-1',
      accessKeyId: stackConfig.s3AccessKeyId,
      secretAccessKey: stackConfig.s3SecretAccessKey,
    },
  };
}

/** The local ClickHouse cluster: its name and each replica's HTTP URL. */
export interface ClusterEndpoints {
  cluster: string;
  nodes: string[];
  zookeeper: string;
}

export function clusterPorts(n: number): { http: number; tcp: number; interserver: number } {
  return { http: stackConfig.clusterHttpPortBase + n, tcp: 39110 + n, interserver: 39120 + n };
}

export function localClusterEndpoints(): ClusterEndpoints {
  return {
    cluster: stackConfig.clusterName,
    nodes: Array.from({ length: stackConfig.clusterReplicas }, (_, i) => `http://127.0.0.1:${clusterPorts(i + 1).http}`),
    zookeeper: `127.0.0.1:${stackConfig.zookeeperPort}`,
  };
}
