/**
 * /healthz while writes wait for ClickHouse. Several writes run at once (one
 * per partition, two INSERTs in flight): one of them landing does not mean the
 * others do. Before: the first write to succeed cleared the state while the
 * other still waited on a full disk, and /healthz answered 200 (seen in CI on
 * the current server, where a small part fits after a merge frees space).
 */
import { describe, expect, it } from 'vitest';
import { WeblogError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observe/log.js';
import { Registry } from '../../../src/observe/metrics.js';
import { StoreWaitState } from '../../../src/sink/store-wait.js';

const diskFull = new WeblogError(
  'UNAVAILABLE',
  'insert: ClickHouse has no disk space left: Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)',
);
const refused = new WeblogError('UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:8123');

function state() {
  const registry = new Registry();
  const gauge = registry.gauge('weblog_clickhouse_waiting', 'test');
  const lines: string[] = [];
  const log = { ...silentLogger, info: (m: string) => void lines.push(`info ${m}`), error: (m: string) => void lines.push(`error ${m}`) };
  return { s: new StoreWaitState(log, gauge), registry, lines };
}

describe('StoreWaitState', () => {
  it('is healthy until a write waits', () => {
    const { s } = state();
    expect(s.health()).toEqual({ ok: true, detail: 'storing' });
  });

  it('stays unhealthy while any write still waits; healthy once the last one lands', () => {
    const { s, registry, lines } = state();
    const a = s.begin();
    const b = s.begin();
    s.note(a, diskFull);
    s.note(b, diskFull);
    s.settled(a, true);
    expect(s.health().ok).toBe(false);
    expect(s.health().detail).toMatch(/disk_full/);
    expect(registry.render()).toMatch(/weblog_clickhouse_waiting\{reason="disk_full"\} 1/);
    expect(lines.filter((l) => l.includes('takes writes again'))).toEqual([]);
    s.settled(b, true);
    expect(s.health().ok).toBe(true);
    expect(registry.render()).toMatch(/weblog_clickhouse_waiting\{reason="disk_full"\} 0/);
    expect(lines.filter((l) => l.includes('takes writes again'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('no disk space left'))).toHaveLength(1);
  });

  it('reports a full disk over an outage while both are seen, and each reason gauge apart', () => {
    const { s, registry } = state();
    const a = s.begin();
    const b = s.begin();
    s.note(a, refused);
    s.note(b, diskFull);
    expect(s.health().detail).toMatch(/disk_full/);
    const text = registry.render();
    expect(text).toMatch(/reason="disk_full"\} 1/);
    expect(text).toMatch(/reason="unavailable"\} 1/);
    s.settled(b, true);
    expect(s.health().detail).toMatch(/unavailable/);
    expect(registry.render()).toMatch(/reason="disk_full"\} 0/);
  });

  it('a write that gives up (a stop, a revoked partition) leaves its trouble standing until some write lands', () => {
    const { s, lines, registry } = state();
    const a = s.begin();
    s.note(a, diskFull);
    s.settled(a, false);
    expect(s.health().ok).toBe(false);
    expect(registry.render()).toMatch(/reason="disk_full"\} 1/);
    expect(lines.filter((l) => l.includes('takes writes again'))).toEqual([]);
    s.settled(s.begin(), true);
    expect(s.health().ok).toBe(true);
    expect(registry.render()).toMatch(/reason="disk_full"\} 0/);
    expect(lines.filter((l) => l.includes('takes writes again'))).toHaveLength(1);
  });

  it('a write that never failed settles without effect', () => {
    const { s, lines } = state();
    s.settled(s.begin(), true);
    expect(s.health().ok).toBe(true);
    expect(lines).toEqual([]);
  });
});
