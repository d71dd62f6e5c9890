/**
 * CPU time of every process a line costs: this process (with its children),
 * the broker, the ClickHouse server and the S3 server of the local stack, read
 * from /proc (Linux). Whole-system CPU per line is the sum of the deltas.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TICKS = 100; // USER_HZ on Linux

/** utime + stime of `pid` in seconds, and of its live descendants; 0 when gone. */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(f[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) / TICKS;
    } catch {
      return;
    }
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return total;
}

/** The PID of a local stack server, from its pid file. */
export function stackPid(service: 'kafka' | 'clickhouse' | 'clickhouse-current' | 's3'): number | undefined {
  const dir = process.env.WEBLOG_STACK_DIR ?? path.join(root, '.stack');
  try {
    return Number(readFileSync(path.join(dir, service, 'pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

export interface CpuSnapshot {
  self: number;
  kafka: number;
  clickhouse: number;
  s3: number;
}

/** Which of the stack's ClickHouse servers a benchmark runs against: 18.16 or the current one (26.7). */
export type BenchServer = 'clickhouse' | 'clickhouse-current';

/** CPU seconds so far of this process (with children) and of the stack's servers (0 where unknown); `clickhouse` is `server`'s. */
export function cpuSnapshot(server: BenchServer = 'clickhouse'): CpuSnapshot {
  const of = (pid: number | undefined) => (pid ? treeCpuSeconds(pid) : 0);
  return { self: of(process.pid), kafka: of(stackPid('kafka')), clickhouse: of(stackPid(server)), s3: of(stackPid('s3')) };
}

/** What happened between two snapshots, in µs per item, split by process. */
export function cpuPerItem(a: CpuSnapshot, b: CpuSnapshot, items: number): CpuSnapshot & { total: number } {
  const us = (k: keyof CpuSnapshot) => ((b[k] - a[k]) * 1e6) / items;
  const r = { self: us('self'), kafka: us('kafka'), clickhouse: us('clickhouse'), s3: us('s3') };
  return { ...r, total: r.self + r.kafka + r.clickhouse + r.s3 };
}
