/**
 * Objects that cannot be read whole, on real files through `weblog run`
 * (in-process queue, embedded ClickHouse): a truncated gzip, bzip2 data named
 * .gz, a valid gzip with trailing garbage (which gzip -d reads whole), and a
 * file truncated to a shorter size after it was shipped.
 * Before: the truncated and corrupt files stored nothing, the summary line
 * did not name them, and the next run said "already up to date" with exit 0;
 * the trailing-garbage file stored nothing either; the shortened file shipped
 * its first bytes again (11,948 duplicate rows in the report).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { weblog } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const line = (tag: string, i: number) =>
  `10.1.${(i >> 8) & 255}.${i & 255} - - [04/Dec/2026:02:${String(i % 60).padStart(2, '0')}:00 +0000] "GET /${tag}/${i} HTTP/1.1" 200 ${i % 1000} "-" "failed-objects-test"\n`;
const lines = (tag: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => line(tag, from + i)).join('');

async function counts(data: string): Promise<Record<string, number>> {
  const ch = new EmbeddedClickHouse({ dir: data });
  try {
    const rows = await ch.query<{ p: string; c: string | number }>(`SELECT splitByChar('/', path)[2] AS p, count() AS c FROM access_log GROUP BY p`);
    const rejects = await ch.query<{ r: string; c: string | number }>(`SELECT reason AS r, count() AS c FROM rejects GROUP BY r`);
    return Object.fromEntries([...rows.map((r) => [r.p, Number(r.c)]), ...rejects.map((r) => [`reject:${r.r}`, Number(r.c)])]);
  } finally {
    await ch.close();
  }
}

describe('objects that cannot be read whole', () => {
  it('keeps the lines before the fault once, reports the failed objects in every run until fixed or skipped, ships gzip with trailing garbage', async () => {
    const dir = tempDir('weblog-failed-', cleanups);
    const logs = path.join(dir, 'logs');
    execFileSync('mkdir', ['-p', logs]);
    writeFileSync(path.join(logs, 'good.log'), lines('good', 500));
    // A gzip cut in half: its complete lines are the ones a sync flush gets out of it.
    const full = gzipSync(lines('trunc', 20_000));
    const cut = full.subarray(0, Math.floor(full.length / 2));
    writeFileSync(path.join(logs, 'trunc.log.gz'), cut);
    const readable = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH }).toString();
    const truncLines = readable.split('\n').length - 1;
    expect(truncLines).toBeGreaterThan(1000);
    // bzip2 data named .gz (the real bzip2 command).
    writeFileSync(path.join(logs, 'bz.log'), lines('bz', 100));
    execFileSync('bzip2', [path.join(logs, 'bz.log')]);
    execFileSync('mv', [path.join(logs, 'bz.log.bz2'), path.join(logs, 'bz.log.gz')]);
    // A valid gzip followed by garbage: gzip -d reads it whole, with a warning.
    const member = gzipSync(lines('garbage', 3000));
    writeFileSync(path.join(logs, 'garbage.log.gz'), Buffer.concat([member, Buffer.from('this is not gzip\n')]));
    const data = path.join(dir, 'data');
    const args = ['run', '--source', `file://${logs}/`, '--embedded', data, '--no-reports', '--no-dashboard'];
    // The compressed files were just written: the shipper waits until they settle.
    const first = await weblog(args, {}, dir);
    expect(first.code, first.stderr.slice(-3000)).toBe(1);
    expect(first.stderr).toContain('failed: 2 object(s) could not be read (the lines before the fault are stored)');
    expect(first.stderr).toMatch(/trunc\.log\.gz: INPUT_UNREADABLE: .*trunc\.log\.gz: the gzip data ends early \(truncated file\?\) near compressed byte \d+/);
    expect(first.stderr).toMatch(/bz\.log\.gz: INPUT_UNREADABLE: .*bz\.log\.gz: named \.gz but holds bzip2 data, not gzip data/);
    const stored = { good: 500, trunc: truncLines, garbage: 3000, 'reject:trailing_garbage': 1 };
    expect(await counts(data)).toEqual(stored);
    const ch = new EmbeddedClickHouse({ dir: data });
    try {
      const [r] = await ch.query<{ source_offset: string | number; line: string; detail: string }>(
        "SELECT source_offset, line, detail FROM rejects WHERE reason = 'trailing_garbage'",
      );
      expect(Number(r?.source_offset)).toBe(member.length);
      expect(r?.line).toBe(`17 bytes after the end of the gzip data at compressed byte ${member.length}: ${Buffer.from('this is not gzip\n').toString('hex')}`);
    } finally {
      await ch.close();
    }
    // The next run still says so (it said "already up to date", exit 0), and stores nothing twice.
    const second = await weblog(args, {}, dir);
    expect(second.code, second.stderr.slice(-3000)).toBe(1);
    expect(second.stderr).toContain('failed: 2 object(s) could not be read');
    expect(second.stderr).not.toContain('already up to date');
    // --retry-failed reads them again from where they failed: nothing new, still failed.
    const retried = await weblog([...args, '--retry-failed'], {}, dir);
    expect(retried.code).toBe(1);
    expect(await counts(data)).toEqual(stored);
    // Fixed: the whole gzip replaces the truncated one (a new file, a new identity).
    execFileSync('rm', [path.join(logs, 'trunc.log.gz')]);
    writeFileSync(path.join(logs, 'trunc.log.gz'), full);
    await new Promise((r) => setTimeout(r, 1600)); // past the settling time of a fresh .gz
    const fixed = await weblog(args, {}, dir);
    expect(fixed.code, fixed.stderr.slice(-3000)).toBe(1); // bz.log.gz is still there
    expect(fixed.stderr).toContain('failed: 1 object(s)');
    expect(await counts(data)).toEqual({ ...stored, trunc: 20_000 });
    // Skipped: reported no more.
    const skipped = await weblog([...args, '--skip-failed'], {}, dir);
    expect(skipped.code, skipped.stderr.slice(-3000)).toBe(0);
    const last = await weblog(args, {}, dir);
    expect(last.code, last.stderr.slice(-3000)).toBe(0);
    expect(last.stderr).toContain('already up to date');
    // The repaired file goes on from where the truncated one failed: nothing twice.
    expect(await counts(data)).toEqual({ ...stored, trunc: 20_000 });
  }, 240_000);

  it('a file cut to a shorter size after it was shipped ships nothing again; what it grows by ships once', async () => {
    const dir = tempDir('weblog-shrink-', cleanups);
    const logs = path.join(dir, 'logs');
    execFileSync('mkdir', ['-p', logs]);
    const file = path.join(logs, 'access.log');
    writeFileSync(file, lines('a', 10_000));
    const data = path.join(dir, 'data');
    const args = ['run', '--source', `file://${logs}/`, '--embedded', data, '--no-reports', '--no-dashboard'];
    expect((await weblog(args, {}, dir)).code).toBe(0);
    // Cut to 4,000 lines (the shipper had read past that: its progress is beyond the new end).
    const keep = lines('a', 4000).length;
    truncateSync(file, keep);
    expect(readFileSync(file).length).toBe(keep);
    const again = await weblog(args, {}, dir);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(await counts(data)).toEqual({ a: 10_000 });
    appendFileSync(file, lines('b', 700));
    const grown = await weblog(args, {}, dir);
    expect(grown.code, grown.stderr.slice(-2000)).toBe(0);
    expect(await counts(data)).toEqual({ a: 10_000, b: 700 });
  }, 240_000);
});
