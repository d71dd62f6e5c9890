/** A SQL string literal, for servers without query parameters (18.x) and for system-table queries. */
export const sqlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
