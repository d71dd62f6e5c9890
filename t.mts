import { EmbeddedClickHouse } from './src/sink/clickhouse/embedded.ts';
const a = new EmbeddedClickHouse({ dir: '/tmp/cha', database: 'a' });
const b = new EmbeddedClickHouse({ dir: '/tmp/cha', database: 'b' });
await Promise.all([a.exec('CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE=MergeTree ORDER BY x'), b.exec('CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE=MergeTree ORDER BY x')]);
await Promise.all([a.insertJson('t', '{"x":1}'), b.insertJson('t', '{"x":2}\n{"x":3}')]);
console.log(await Promise.all([a.query('SELECT currentDatabase() d, sum(x) s FROM t'), b.query('SELECT currentDatabase() d, sum(x) s FROM t')]));
await a.close(); await b.close();
const c = new EmbeddedClickHouse({ dir: '/tmp/chb', database: 'c' }); console.log(c.describe()); await c.close();
