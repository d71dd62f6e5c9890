/**
 * Finds the servers the integration tests talk to, in this order:
 * 1. endpoints from the environment (KAFKA_BROKERS, CLICKHOUSE_URL (18.16),
 *    CLICKHOUSE_CURRENT_URL (a current server, optional), S3_ENDPOINT
 *    with S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY or the AWS_* variables,
 *    SQS_ENDPOINT (an SQS-compatible server, optional));
 * 2. testcontainers, when a Docker engine answers;
 * 3. the local stack (test/stack): started here if it is not running, and
 *    stopped again at the end only if it was started here.
 */
import type { TestProject } from 'vitest/node';
import { localEndpoints, type Endpoints } from '../../stack/config.js';
import { down, up } from '../../stack/stack.js';
import { dockerAnswers, startContainers } from './containers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: Endpoints;
    endpointSource: string;
  }
}

function fromEnv(): Endpoints | undefined {
  const e = process.env;
  const key = e.S3_ACCESS_KEY_ID ?? e.AWS_ACCESS_KEY_ID;
  const secret = e.S3_SECRET_ACCESS_KEY ?? e.AWS_SECRET_ACCESS_KEY;
  if (!e.KAFKA_BROKERS || !e.CLICKHOUSE_URL || !e.S3_ENDPOINT || !key || !secret) return undefined;
  return {
    kafkaBrokers: e.KAFKA_BROKERS.split(','),
    kafkaSaslBrokers: e.KAFKA_SASL_BROKERS?.split(','),
    clickhouseUrl: e.CLICKHOUSE_URL,
    clickhouseCurrentUrl: e.CLICKHOUSE_CURRENT_URL,
    sqsEndpoint: e.SQS_ENDPOINT,
    s3: { endpoint: e.S3_ENDPOINT, region: e.AWS_REGION ?? 'us-east-1', accessKeyId: key, secretAccessKey: secret },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = fromEnv();
  if (env) {
    project.provide('endpoints', env);
    project.provide('endpointSource', 'environment');
    return async () => {};
  }
  if (await dockerAnswers()) {
    const { endpoints, stop } = await startContainers();
    project.provide('endpoints', endpoints);
    project.provide('endpointSource', 'testcontainers');
    return stop;
  }
  const { started } = await up();
  project.provide('endpoints', localEndpoints());
  project.provide('endpointSource', 'local stack');
  return async () => {
    if (started.length > 0) await down(started);
  };
}
