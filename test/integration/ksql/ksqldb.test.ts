/**
 * The parity files through the real ksqlDB: its own test runner (no Kafka
 * cluster needed) in the confluentinc/ksqldb-server image runs
 * ksql/weblog.sql on ksql/cases/input.json and checks ksql/cases/output.json.
 * Needs a Docker engine; where none answers (our CI machines), the test is
 * skipped and says so. On a machine with Docker, by hand:
 *   docker run --rm -v "$PWD/ksql:/ksql" --entrypoint ksql-test-runner confluentinc/ksqldb-server:0.29.0 \
 *     -s /ksql/weblog.sql -i /ksql/cases/input.json -o /ksql/cases/output.json
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GenericContainer } from 'testcontainers';
import { repoRoot } from '../../helpers/datasets.js';
import { dockerAnswers } from '../setup/containers.js';

const image = 'confluentinc/ksqldb-server:0.29.0';
const docker = await dockerAnswers();
if (!docker)
  console.warn(
    `KSQL parity on the real ksqlDB (${image}) skipped: no Docker engine answers. The same check without Docker runs in test/unit/ksql/parity.test.ts.`,
  );

describe('KSQL parity on the real ksqlDB', () => {
  it.skipIf(!docker)(
    docker
      ? `ksql-test-runner (${image}) passes ksql/weblog.sql with the parity cases`
      : `ksql-test-runner (${image}) passes ksql/weblog.sql with the parity cases: SKIPPED, no Docker engine answers (set DOCKER_HOST or start Docker to run it)`,
    async () => {
      const container = await new GenericContainer(image)
        .withEntrypoint(['sleep', 'infinity'])
        .withCopyDirectoriesToContainer([{ source: path.join(repoRoot, 'ksql'), target: '/ksql' }])
        .start();
      try {
        const r = await container.exec(['ksql-test-runner', '-s', '/ksql/weblog.sql', '-i', '/ksql/cases/input.json', '-o', '/ksql/cases/output.json']);
        expect(r.exitCode, r.output.slice(-3000)).toBe(0);
        expect(r.output).toMatch(/Test passed!/);
      } finally {
        await container.stop();
      }
    },
    600_000,
  );
});
