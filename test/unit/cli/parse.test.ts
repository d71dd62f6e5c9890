/** `weblog parse` as a user runs it: a child process, real files, exit codes. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fixture, readLines, repoRoot } from '../../helpers/datasets.js';

function weblog(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(path.join(repoRoot, 'bin', 'weblog.js'), args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('weblog parse', () => {
  it('accounts for every line of the Elastic sample: 9,999 JSON records + 1 reject', async () => {
    const { code, stdout, stderr } = await weblog(['parse', fixture('logs', 'elastic_apache.log')]);
    expect(code).toBe(0);
    const records = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toHaveLength(9999);
    expect(records[0]).toMatchObject({ remote_addr: '83.149.9.216', time: '2015-05-17T10:05:03.000Z', status: 200, browser: 'Chrome', country: 'RU' });
    expect(typeof records[0]?.ua_id).toBe('string');
    const errLines = stderr.trim().split('\n');
    expect(JSON.parse(errLines[0] as string)).toMatchObject({ reason: 'unterminated_quote' });
    expect(errLines.at(-1)).toBe('weblog parse: 10000 lines, 9999 accepted, 1 rejected (unterminated_quote=1)');
  });

  it('--strip-query: no query string of the sample reaches the output', async () => {
    const plain = await weblog(['parse', fixture('logs', 'elastic_apache.log')]);
    expect(plain.stdout).toMatch(/"query":"[^"]/); // the sample has queries
    const { code, stdout } = await weblog(['parse', '--strip-query', fixture('logs', 'elastic_apache.log')]);
    expect(code).toBe(0);
    const records = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(records).toHaveLength(9999);
    for (const r of records) {
      expect(r.query).toBe('');
      expect(`${r.url} ${r.request} ${r.referer}`).not.toContain('?');
    }
  });

  it('--privacy: no client address of the sample in the records or the rejects printed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-parse-'));
    const lines = readLines(fixture('logs', 'elastic_apache.log'));
    const ips = new Set(lines.map((l) => l.split(' ')[0] as string).filter((ip) => !ip.endsWith('.0')));
    const found = (text: string) => [...ips].filter((ip) => new RegExp(`(?<![\\d.])${ip.replace(/[.]/g, '\\.')}(?![\\d])`).test(text));
    const plain = await weblog(['parse', fixture('logs', 'elastic_apache.log')]);
    expect(found(plain.stdout + plain.stderr).length).toBeGreaterThan(1000); // the search finds them when they are there
    const { code, stdout, stderr } = await weblog(['parse', '--privacy', '--privacy-key', path.join(dir, 'k'), fixture('logs', 'elastic_apache.log')]);
    expect(code).toBe(0);
    expect(stderr).toContain('"reason":"unterminated_quote"');
    expect(found(stdout + stderr)).toEqual([]);
    const refused = await weblog(['parse', '--privacy', '--no-enrich', '--privacy-key', path.join(dir, 'k'), fixture('logs', 'elastic_apache.log')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe('weblog parse: CONFIG_INVALID: --privacy anonymises while enriching: leave out --no-enrich');
  });

  it('reads gzip files and stdin, with --no-enrich and a custom format', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-parse-'));
    const gz = path.join(dir, 'access.log.gz');
    writeFileSync(gz, gzipSync(readLines(fixture('logs', 'basjes_hackers.log')).slice(0, 100).join('\n')));
    const a = await weblog(['parse', '--no-enrich', gz]);
    expect(a.code).toBe(0);
    expect(a.stdout.trim().split('\n')).toHaveLength(100);
    expect(a.stdout).not.toContain('"ua_id"');
    const b = await weblog(['parse', '--no-enrich', '--format', '$remote_addr [$time_local] $status'], '1.2.3.4 [10/Oct/2000:13:55:36 -0700] 404\nbad\n');
    expect(JSON.parse(b.stdout)).toMatchObject({ remote_addr: '1.2.3.4', status: 404, time: '2000-10-10T20:55:36.000Z' });
    expect(b.stderr).toContain('"reason":"no_match"');
  });

  it('exits 2 on usage errors and 1 on unreadable input, naming the problem', async () => {
    const bad = await weblog(['parse', '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--bogus/);
    const fmt = await weblog(['parse', '--format', 'nonsense']);
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toMatch(/unknown format "nonsense"/);
    const missing = await weblog(['parse', '/no/such/file.log']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read \/no\/such\/file\.log: ENOENT/);
  });

  it('prints help with defaults and units', async () => {
    const { code, stdout } = await weblog(['parse', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--max-line-bytes N .*unit: bytes; default: 1048576/);
    const top = await weblog(['--help']);
    expect(top.stdout).toMatch(/parse\s+Parse/);
  });
});

describe('the command line refuses what would hang, spin or crash later', () => {
  it.each([
    [['process', '--brokers', '127.0.0.1:1', '--max-insert-rows', '0'], '--max-insert-rows: expected a whole number from 1'],
    [['process', '--brokers', '127.0.0.1:1', '--partitions-concurrently', '0'], '--partitions-concurrently: expected a whole number from 1 to 1,024'],
    [['report', 'status', '--limit', '1e18'], '--limit: expected a whole number from 1 to 1,000,000'],
    [['report', 'status', '--from', '275760-09-13'], '--from: expected an ISO-8601 date'],
    [['parse', '--format', 'toString', '/dev/null'], 'unknown format "toString"'],
    [['parse', '--format', 'constructor', '/dev/null'], 'unknown format "constructor"'],
  ])('weblog %j exits 2 naming the problem', async (args, message) => {
    const { code, stderr } = await weblog(args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('-V prints the version; help never glues a flag to its description', async () => {
    const v = await weblog(['-V']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await weblog(['process', '--help']);
    expect(help.stdout).not.toMatch(/\|error\S/);
    for (const line of help.stdout.split('\n').filter((l) => l.startsWith('  -'))) expect(line, line).toMatch(/^ {2}\S.*?( {2,}\S|$)/);
  });
});

describe('separate workers on one host', () => {
  it('ship and process default to different metrics ports', async () => {
    const ship = await weblog(['ship', '--help']);
    const proc = await weblog(['process', '--help']);
    expect(ship.stdout).toMatch(/--metrics-port N[\s\S]*?default: 9465/);
    expect(proc.stdout).toMatch(/--metrics-port N[\s\S]*?default: 9464/);
  });
});

describe('format variables named like Object properties', () => {
  it('$__proto__, $constructor and $toString are stored under their names like any variable (__proto__ was dropped)', async () => {
    const r = await weblog(
      ['parse', '--no-enrich', '--format', '$remote_addr [$time_local] $__proto__ $constructor $toString'],
      '1.2.3.4 [10/Oct/2000:13:55:36 -0700] a b c\n',
    );
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(rec, '__proto__')?.value).toBe('a');
    expect(rec.constructor).toBe('b');
    expect(rec.toString).toBe('c');
  });
});
