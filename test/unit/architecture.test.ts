/**
 * The house rules, checked on the source: dependencies point one way (the
 * data path imports neither presentation nor assembly), and SQL lives only in
 * the sink and the schema (plus clickhouse-schema/, outside src).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/datasets.js';

const src = path.join(repoRoot, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const all = files(src).map((f) => ({ file: path.relative(src, f), text: readFileSync(f, 'utf8') }));
const layer = (file: string) => file.split(path.sep)[0] as string;
const importsOf = (text: string) => [...text.matchAll(/^import[^;]*?from '(\.[^']+)'/gms)].map((m) => m[1] as string);

/** Which folders each folder may not import. */
const forbidden: Record<string, string[]> = {
  pipeline: ['app', 'cli', 'dashboard', 'report', 'alerts'],
  sink: ['app', 'cli', 'dashboard', 'report', 'pipeline', 'transport', 'source', 'alerts'],
  source: ['app', 'cli', 'dashboard', 'report', 'pipeline', 'transport', 'sink', 'alerts'],
  transport: ['app', 'cli', 'dashboard', 'report', 'pipeline', 'sink', 'source', 'alerts'],
  parse: ['app', 'cli', 'dashboard', 'report', 'pipeline', 'sink', 'source', 'transport', 'enrich', 'alerts'],
  enrich: ['app', 'cli', 'dashboard', 'report', 'pipeline', 'sink', 'source', 'transport', 'alerts'],
  report: ['app', 'cli', 'dashboard', 'pipeline', 'transport', 'source', 'alerts'],
  alerts: ['app', 'cli', 'dashboard', 'pipeline', 'transport', 'source'],
  dashboard: ['app', 'cli', 'pipeline', 'transport', 'source'],
  schema: ['app', 'cli', 'dashboard', 'report', 'pipeline', 'transport', 'source', 'alerts'],
  app: ['cli'],
};

/** SQL statements in string literals (keywords in upper case, as weblog writes SQL). */
const sql =
  /['`"][^'`"\n]*\b(SELECT\s+[\w(*]|INSERT\s+INTO|ALTER\s+TABLE|DROP\s+(TABLE|DATABASE)|CREATE\s+(TABLE|DATABASE|MATERIALIZED)|KILL\s+QUERY|SYSTEM\s+FLUSH)/;

describe('architecture', () => {
  it('dependencies point one way: no folder imports one above it (the data path imports no reports, no dashboard, no assembly)', () => {
    const bad: string[] = [];
    for (const { file, text } of all) {
      const from = layer(file);
      for (const imp of importsOf(text)) {
        const target = path.relative(src, path.resolve(path.dirname(path.join(src, file)), imp));
        if (forbidden[from]?.includes(layer(target))) bad.push(`${file} imports ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('SQL is written only in src/sink and src/schema', () => {
    const bad = all
      .filter(({ file }) => !['sink', 'schema'].includes(layer(file)))
      .flatMap(({ file, text }) =>
        text
          .split('\n')
          .map((line, i) => ({ line, i }))
          .filter(({ line }) => sql.test(line) && !line.trim().startsWith('//') && !line.trim().startsWith('*'))
          .map(({ line, i }) => `${file}:${i + 1}: ${line.trim()}`),
      );
    expect(bad).toEqual([]);
  });

  it('the SQL check finds SQL where it is (it can fail)', () => {
    expect(sql.test("await ch.query('SELECT 1 AS ok')")).toBe(true);
    expect(sql.test('`INSERT INTO t (a) FORMAT TabSeparated`')).toBe(true);
    expect(sql.test('// between INSERT and commit')).toBe(false);
  });

  it('no file is over 400 lines', () => {
    expect(all.filter(({ text }) => text.split('\n').length > 400).map(({ file }) => file)).toEqual([]);
  });
});
