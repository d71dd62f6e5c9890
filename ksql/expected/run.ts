/**
 * npm run ksql:expected: makes ksql/cases/input.json (ksqlDB test-runner
 * format) from ksql/cases/cases.json, then builds and runs the Java generator
 * (Maven), which writes ksql/cases/output.json and ksql/cases/expected.json.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ksql = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cases = JSON.parse(readFileSync(path.join(ksql, 'cases', 'cases.json'), 'utf8')) as { cases: { name: string; value: string }[] };
const input = { inputs: cases.cases.map((c) => ({ topic: 'weblog.raw', key: null, value: c.value, timestamp: 0 })) };
writeFileSync(path.join(ksql, 'cases', 'input.json'), JSON.stringify(input, null, 1) + '\n');
const dir = path.join(ksql, 'expected');
const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
};
run('mvn', ['-q', '-B', 'package', 'dependency:build-classpath', '-Dmdep.outputFile=target/classpath.txt']);
const cp = `${path.join(dir, 'target', 'classes')}:${readFileSync(path.join(dir, 'target', 'classpath.txt'), 'utf8').trim()}`;
run('java', [
  '-cp',
  cp,
  'weblog.ksql.Expected',
  path.join(ksql, 'weblog.sql'),
  path.join(ksql, 'cases', 'input.json'),
  path.join(ksql, 'cases', 'cases.json'),
  path.join(ksql, 'cases', 'output.json'),
  path.join(ksql, 'cases', 'expected.json'),
]);
