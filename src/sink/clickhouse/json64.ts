/**
 * 64-bit integers out of ClickHouse's JSON formats, exactly.
 *
 * weblog reads (U)Int64 values as strings, as ClickHouse writes them with
 * `output_format_json_quote_64bit_integers = 1` (chdb is started so; the HTTP
 * client asks for it). Servers since 25.x default to 0 and write bare
 * numbers, which JSON.parse rounds beyond 2^53 without a word; and a user in
 * `readonly = 1` mode (the reader role) may not change the setting at all.
 * For that user the answer is read here instead: integers that a double
 * cannot hold are quoted before parsing, then every 64-bit integer column of
 * the result (by the JSON format's `meta`) is made a string, so the rows are
 * the ones the setting would have given.
 */

const isDigit = (c: number) => c >= 48 && c <= 57;

/** JSON text with every integer literal that a double cannot hold exactly turned into a string (strings left alone). */
export function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let last = 0;
  const n = text.length;
  for (let i = 0; i < n;) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: skip to its closing quote, over escapes
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
      i++;
      continue;
    }
    if (c === 45 || isDigit(c)) {
      let j = c === 45 ? i + 1 : i;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      const next = text.charCodeAt(j);
      const integer = next !== 46 && next !== 101 && next !== 69; // not followed by . e E
      if (integer && j - i >= 16 && !Number.isSafeInteger(Number(text.slice(i, j)))) {
        out += `${text.slice(last, i)}"${text.slice(i, j)}"`;
        last = j;
      }
      while (j < n && (isDigit(text.charCodeAt(j)) || '.eE+-'.includes(text[j] as string))) j++;
      i = j;
      continue;
    }
    i++;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** ClickHouse types whose JSON values weblog reads as strings. */
const wide = /^(Nullable\()?(LowCardinality\()?U?Int(64|128|256)\)*$/;

/** The rows and columns of a ClickHouse `JSON` format answer, 64-bit integers as strings (see above). */
export function parseClickHouseJson(text: string): { meta: { name: string; type: string }[]; data: Record<string, unknown>[] } {
  const json = JSON.parse(quoteUnsafeIntegers(text)) as { meta?: { name: string; type: string }[]; data?: Record<string, unknown>[] };
  const meta = json.meta ?? [];
  const data = json.data ?? [];
  const names = meta.filter((m) => wide.test(m.type)).map((m) => m.name);
  if (names.length)
    for (const row of data)
      for (const k of names) {
        const v = row[k];
        if (typeof v === 'number') row[k] = String(v);
      }
  return { meta, data };
}
