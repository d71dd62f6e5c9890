/** The `weblog` command as a user runs it: a child process, its exit code and output. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './datasets.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `weblog ARGS`. Servers only where a test names them: a developer's
 * KAFKA_BROKERS / CLICKHOUSE_URL must not turn an embedded run into a server run.
 */
export function weblog(args: string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repoRoot, 'bin', 'weblog.js'), ...args],
      { cwd, env: { ...process.env, KAFKA_BROKERS: '', CLICKHOUSE_URL: '', ...env }, maxBuffer: 32 * 1024 * 1024, timeout: 240_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The last line a command printed on stderr (where weblog puts its one-line error). */
export const lastLine = (s: string): string | undefined => s.trim().split('\n').at(-1);
