/** The one way commands open the ClickHouse they read or change: opened here, closed here, however the work ends. */
import { openClickHouse, type ClickHouseConfig } from '../sink/clickhouse/open.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';
import { Closers } from './closers.js';

/** Runs `fn` on the ClickHouse of `cfg` (`readOnly`: creates nothing, NO_DATA when there is none) and closes it after. */
export async function withClickHouse<T>(cfg: ClickHouseConfig, opts: { readOnly?: boolean }, fn: (ch: ClickHouse) => Promise<T>): Promise<T> {
  const closers = new Closers();
  try {
    const ch = closers.add('clickhouse', await openClickHouse(cfg, opts));
    const out = await fn(ch);
    await closers.close();
    return out;
  } catch (err) {
    await closers.destroy(err).catch(() => undefined);
    throw err;
  }
}
