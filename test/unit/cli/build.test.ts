/**
 * `npm run build` must give a CLI that runs without tsx: the built parser
 * needs the crawler list beside it (it was not copied, and `parse` then blamed
 * the input file).
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, repoRoot } from '../../helpers/datasets.js';

const run = (cmd: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('npm run build', () => {
  it('builds a dist/ whose CLI parses the sample like the source CLI', async () => {
    rmSync(path.join(repoRoot, 'dist'), { recursive: true, force: true }); // what a fresh clone has
    const build = await run('npm', ['run', '--silent', 'build']);
    expect(build.code, build.stderr + build.stdout).toBe(0);
    const parsed = await run(process.execPath, [path.join(repoRoot, 'dist', 'cli', 'main.js'), 'parse', fixture('logs', 'elastic_apache.log')]);
    expect(parsed.code, parsed.stderr.slice(-1000)).toBe(0);
    expect(parsed.stdout.trim().split('\n')).toHaveLength(9999);
    expect(parsed.stderr.trim().split('\n').at(-1)).toBe('weblog parse: 10000 lines, 9999 accepted, 1 rejected (unterminated_quote=1)');
  }, 200_000);
});
