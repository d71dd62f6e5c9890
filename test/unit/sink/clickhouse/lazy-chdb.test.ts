/**
 * chdb maps libchdb.so (about 160 MB of RSS) when it is first required; a
 * worker that talks to a ClickHouse server over HTTP must not pay for it.
 * `weblog process --clickhouse` had it loaded through a static import.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../helpers/datasets.js';

const mapsLibchdb = (script: string): string =>
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `${script}\nconst { readFileSync } = await import('node:fs');\nprocess.stdout.write(readFileSync('/proc/self/maps', 'utf8').includes('libchdb') ? 'loaded' : 'not loaded');`,
    ],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );

describe.skipIf(!existsSync('/proc/self/maps'))('the embedded engine is loaded only by a process that opens it', () => {
  it('the HTTP path (every job, open.ts, an HttpClickHouse) does not map libchdb', () => {
    expect(
      mapsLibchdb(
        "await import('./src/app/process-job.ts'); await import('./src/app/run-job.ts'); const { openClickHouse } = await import('./src/sink/clickhouse/open.ts'); const { HttpClickHouse } = await import('./src/sink/clickhouse/http.ts'); void openClickHouse; await new HttpClickHouse({ url: 'http://127.0.0.1:9' }).close();",
      ),
    ).toBe('not loaded');
  });

  it('opening an embedded folder does', () => {
    expect(
      mapsLibchdb(
        "const os = await import('node:os'); const fs = await import('node:fs'); const dir = fs.mkdtempSync(os.tmpdir() + '/weblog-lazy-'); const { EmbeddedClickHouse } = await import('./src/sink/clickhouse/embedded.ts'); const ch = new EmbeddedClickHouse({ dir }); await ch.close(); fs.rmSync(dir, { recursive: true, force: true });",
      ),
    ).toBe('loaded');
  });
});
