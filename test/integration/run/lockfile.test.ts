/**
 * The lock file must satisfy `npm ci` of npm 10 (Node 20/22) and of npm 11
 * (Node 24), which many CI pipelines, Dockerfiles and Compose's weblog-deps
 * run. npm 11 also wants every platform's optional packages in the lock:
 * it refused ours with "Missing: @chdb/lib-darwin-arm64@ from lock file".
 */
import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/datasets.js';
import { tempDir } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });
}

describe('package-lock.json', () => {
  for (const npm of ['10', '11']) {
    it(`is accepted by npm ${npm} ci (dry run)`, async () => {
      const dir = tempDir(`weblog-lock-${npm}-`, cleanups);
      for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(repoRoot, f), path.join(dir, f));
      const r = await run('npx', ['-y', '-p', `npm@${npm}`, 'npm', 'ci', '--dry-run', '--no-audit', '--no-fund', '--ignore-scripts'], dir);
      expect(r.code, r.out.slice(-3000)).toBe(0);
    }, 300_000);
  }
});
