/**
 * `npm run build` must give a CLI that runs without tsx: the built parser
 * needs the crawler list beside it (it was not copied, and `parse` then blamed
 * the input file).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, repoRoot } from '../../helpers/datasets.js';

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { cwd: repoRoot, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('npm run build', () => {
  it('builds a dist/ whose CLI parses the sample like the source CLI', async () => {
    // Built into a temporary package folder (the checkout is left alone), laid out as npm installs the package.
    const pkg = mkdtempSync(path.join(os.tmpdir(), 'weblog-build-'));
    try {
      for (const f of ['package.json', 'node_modules', 'clickhouse-schema', 'data', 'geoip']) symlinkSync(path.join(repoRoot, f), path.join(pkg, f));
      const build = await run('npm', ['run', '--silent', 'build'], { WEBLOG_BUILD_DIR: path.join(pkg, 'dist') });
      expect(build.code, build.stderr + build.stdout).toBe(0);
      await check(path.join(pkg, 'dist', 'cli', 'main.js'));
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
  }, 200_000);
});

async function check(main: string): Promise<void> {
  {
    const parsed = await run(process.execPath, [main, 'parse', fixture('logs', 'elastic_apache.log')]);
    expect(parsed.code, parsed.stderr.slice(-1000)).toBe(0);
    expect(parsed.stdout.trim().split('\n')).toHaveLength(9999);
    expect(parsed.stderr.trim().split('\n').at(-1)).toBe('weblog parse: 10000 lines, 9999 accepted, 1 rejected (unterminated_quote=1)');
  }
}
