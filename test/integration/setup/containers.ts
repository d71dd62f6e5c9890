/**
 * The servers of the local stack (Kafka, ClickHouse, an S3 and an SQS server), as containers, for machines with
 * a Docker engine (users' laptops, CI with Docker). Our own CI has no Docker
 * engine, so this path is exercised only where one answers.
 */
import http from 'node:http';
import { existsSync } from 'node:fs';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import type { Endpoints } from '../../stack/config.js';

const socket = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';

/** True when a Docker engine answers /_ping on its socket within 1 s. */
export function dockerAnswers(): Promise<boolean> {
  if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith('unix://')) return Promise.resolve(true);
  if (!existsSync(socket)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

export async function startContainers(): Promise<{ endpoints: Endpoints; stop: () => Promise<void> }> {
  const kafkaPort = 39092;
  const [kafka, clickhouse, minio, elasticmq] = await Promise.all([
    new GenericContainer('apache/kafka:3.9.1')
      .withExposedPorts({ container: kafkaPort, host: kafkaPort })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://:${kafkaPort},CONTROLLER://:9093`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start(),
    new GenericContainer('clickhouse/clickhouse-server:25.8')
      .withExposedPorts(8123)
      .withEnvironment({ CLICKHOUSE_SKIP_USER_SETUP: '1' })
      .withWaitStrategy(Wait.forHttp('/ping', 8123))
      .start(),
    new GenericContainer('minio/minio:latest')
      .withCommand(['server', '/data'])
      .withExposedPorts(9000)
      .withEnvironment({ MINIO_ROOT_USER: 'weblog', MINIO_ROOT_PASSWORD: 'weblog-secret-key' })
      .withWaitStrategy(Wait.forHttp('/minio/health/ready', 9000))
      .start(),
    new GenericContainer('softwaremill/elasticmq-native:1.6.14').withExposedPorts(9324).withWaitStrategy(Wait.forListeningPorts()).start(),
  ]);
  const url = (c: StartedTestContainer, port: number) => `http://${c.getHost()}:${c.getMappedPort(port)}`;
  return {
    endpoints: {
      kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
      clickhouseUrl: url(clickhouse, 8123),
      sqsEndpoint: url(elasticmq, 9324),
      s3: { endpoint: url(minio, 9000), region: 'us-east-1', accessKeyId: 'weblog', secretAccessKey: 'weblog-secret-key' },
    },
    stop: async () => {
      await Promise.all([kafka.stop(), clickhouse.stop(), minio.stop(), elasticmq.stop()]);
    },
  };
}
