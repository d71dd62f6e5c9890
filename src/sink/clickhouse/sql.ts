/**
 * The two places where a value or a name becomes SQL text. Values are bound
 * as query parameters (`{name:Type}`) everywhere the server has them; only
 * ClickHouse 18.x has none, and there `bindLiterals` writes the same
 * parameters as literals. Names (databases, tables) are checked and quoted
 * by `sqlIdentifier`.
 */
import { WeblogError } from '../../errors.js';
import type { QueryParams } from './types.js';

/** Epoch ms as the text of a DateTime64(3) query parameter ('2026-12-06 10:00:00.000', UTC). */
export const sqlTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** A SQL string literal. */
export const sqlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A database or table name, quoted; anything but letters, digits and _ is refused. */
export function sqlIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new WeblogError('CONFIG_INVALID', `"${name}": expected a name of letters, digits and _`);
  return `\`${name}\``;
}

function literal(name: string, v: QueryParams[string]): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new WeblogError('QUERY_FAILED', `query parameter ${name}: ${v} is not a number`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (Array.isArray(v)) return `[${v.map((x) => literal(name, x)).join(',')}]`;
  return sqlString(String(v));
}

/** `sql` with every `{name:Type}` parameter written as a literal, for servers without query parameters (18.x). */
export function bindLiterals(sql: string, params: QueryParams): string {
  return sql.replace(/\{([A-Za-z_][A-Za-z0-9_]*):[^{}]+\}/g, (_m, name: string) => {
    if (!(name in params)) throw new WeblogError('QUERY_FAILED', `query parameter ${name} has no value`);
    return literal(name, params[name] as QueryParams[string]);
  });
}
