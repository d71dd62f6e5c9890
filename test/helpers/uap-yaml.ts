/**
 * Reads the uap-core test YAML files (a list of flat `key: value` maps under
 * `test_cases:`), enough for their simple layout: scalars, single- or
 * double-quoted, or empty (null). No YAML library needed.
 */
import { readFileSync } from 'node:fs';

export type UapCase = Record<string, string | null>;

function scalar(raw: string): string | null {
  const v = raw.trim();
  if (v === '' || v === '~' || v === 'null') return null;
  if (v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1).replace(/''/g, "'");
  if (v.startsWith('"') && v.endsWith('"')) return JSON.parse(v) as string;
  return v;
}

export function readUapCases(file: string): UapCase[] {
  const cases: UapCase[] = [];
  let current: UapCase | undefined;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(-\s+)?([a-z_]+):(.*)$/.exec(line);
    if (!m || m[2] === 'test_cases') continue;
    if (m[1]) {
      current = {};
      cases.push(current);
    }
    if (current) current[m[2] as string] = scalar(m[3] as string);
  }
  return cases;
}
