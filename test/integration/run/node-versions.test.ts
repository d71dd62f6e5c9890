/**
 * `weblog run` (what `npm start` runs) on the Node.js versions users run:
 * 22 and 24 LTS, through npm's `node` package (Node 20 runs every other test).
 * Skipped with a message when npm cannot fetch that package.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/datasets.js';

function nodeBinary(major: number): string | undefined {
  try {
    return execFileSync('npx', ['-y', '-p', `node@${major}`, 'node', '-p', 'process.execPath'], {
      encoding: 'utf8',
      timeout: 180_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

describe.each([22, 24])('Node %i', (major) => {
  const bin = nodeBinary(major);
  if (!bin) console.warn(`skipping the Node ${major} run: npm could not provide node@${major}`);
  it.skipIf(!bin)(
    'runs the main job on embedded defaults',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), `weblog-node${major}-`));
      try {
        const { code, stderr, version } = await new Promise<{ code: number; stderr: string; version: string }>((resolve) => {
          execFile(
            bin as string,
            [path.join(repoRoot, 'bin', 'weblog.js'), 'run', '--embedded', path.join(dir, 'data'), '--no-reports'],
            { cwd: dir, env: { ...process.env, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' }, timeout: 240_000 },
            (err, _out, stderr) =>
              resolve({
                code: err ? ((err as { code?: number }).code ?? 1) : 0,
                stderr,
                version: execFileSync(bin as string, ['--version'], { encoding: 'utf8' }).trim(),
              }),
          );
        });
        expect(version.startsWith(`v${major}.`)).toBe(true);
        expect(code, stderr.slice(-2000)).toBe(0);
        expect(stderr).toContain('weblog run: 10,000 lines shipped, 9,999 rows stored, 1 rejected.');
        expect(stderr).not.toMatch(/Warning|DeprecationWarning/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
