/**
 * Report filters: `FIELD=VALUE` and `FIELD!=VALUE` (weblog report --where,
 * the API's `where` parameter, the live page's filter bar). Fields come from
 * an allow-list; values are checked here and later bound as query parameters,
 * never pasted into SQL (src/schema/filters.ts has the fields and turns
 * filters into conditions).
 *
 * Values: `path=/api/*` matches a prefix (only a trailing `*` is a wildcard);
 * `status=5xx` a status class; `is_bot=true|false`; `(unknown)` (what reports
 * show for an empty label) matches the empty value. Filters on different
 * fields all apply (AND); several `=` filters on one field match any of them
 * (OR); `!=` filters all apply.
 */
import { WeblogError } from '../errors.js';
import { filterFields, tableOf, type Filter, type FilterField, type FilterKind } from '../schema/filters.js';
import { UNKNOWN_LABEL } from './labels.js';

export { filterFields, type Filter, type FilterField } from '../schema/filters.js';

/** The most filters one report takes (each is a bound parameter). */
export const MAX_FILTERS = 20;

const isField = (f: string): f is FilterField => Object.hasOwn(filterFields, f);

/** One `FIELD=VALUE` / `FIELD!=VALUE`; `name` is how errors call its source (`--where`, `where`). */
export function parseFilter(text: string, name = '--where'): Filter {
  const m = /^\s*([a-z_]+)\s*(!=|=)(.*)$/s.exec(text);
  const fields = Object.keys(filterFields).join(', ');
  if (!m) throw new WeblogError('CONFIG_INVALID', `${name}: expected FIELD=VALUE or FIELD!=VALUE with FIELD one of ${fields}, got "${text}"`);
  const [, field = '', op, raw = ''] = m;
  if (!isField(field)) throw new WeblogError('CONFIG_INVALID', `${name}: unknown field "${field}" in "${text}"; fields: ${fields}`);
  const negate = op === '!=';
  const value = raw.trim();
  if (value.length > 1000) throw new WeblogError('CONFIG_INVALID', `${name}: the value of ${field} is over 1,000 characters`);
  const kind: FilterKind = filterFields[field].kind;
  const bad = (expected: string) => new WeblogError('CONFIG_INVALID', `${name}: ${field} expects ${expected}, got "${value}"`);
  switch (kind) {
    case 'status': {
      const cls = /^([1-5])xx$/i.exec(value);
      if (cls) return { field, negate, match: 'class', value: Number(cls[1]) };
      if (!/^\d{3}$/.test(value) || Number(value) < 100 || Number(value) > 599) throw bad('a status from 100 to 599 or a class such as 5xx');
      return { field, negate, match: 'eq', value: Number(value) };
    }
    case 'bool': {
      const v = value.toLowerCase();
      if (['true', '1', 'yes'].includes(v)) return { field, negate, match: 'eq', value: true };
      if (['false', '0', 'no'].includes(v)) return { field, negate, match: 'eq', value: false };
      throw bad('true or false');
    }
    case 'path': {
      const star = value.indexOf('*');
      if (star !== -1 && star !== value.length - 1) throw bad('a path, or a prefix ending in * (only a trailing * is a wildcard)');
      if (star !== -1) return { field, negate, match: 'prefix', value: value.slice(0, -1) };
      return { field, negate, match: 'eq', value: value === UNKNOWN_LABEL ? '' : value };
    }
    case 'label': {
      let v = value === UNKNOWN_LABEL ? '' : value;
      if (field === 'country' || field === 'method') v = v.toUpperCase();
      return { field, negate, match: 'eq', value: v };
    }
  }
}

/** Every filter of a list of texts (repeated --where / where=), checked. */
export function parseFilters(texts: readonly string[], name = '--where'): Filter[] {
  if (texts.length > MAX_FILTERS) throw new WeblogError('CONFIG_INVALID', `${name}: at most ${MAX_FILTERS} filters, got ${texts.length}`);
  return texts.map((t) => parseFilter(t, name));
}

/** A filter as text again (what the output's metadata and the live page show). */
export function filterText(f: Filter): string {
  const v = f.match === 'class' ? `${String(f.value)}xx` : f.match === 'prefix' ? `${String(f.value)}*` : f.value === '' ? UNKNOWN_LABEL : String(f.value);
  return `${f.field}${f.negate ? '!=' : '='}${v}`;
}

/** True when a report's rows can be filtered (it reads a table with the filter fields: not the rejects). */
export function takesFilters(sql: string): boolean {
  const table = tableOf(sql);
  return table !== undefined && table !== 'rejects';
}
