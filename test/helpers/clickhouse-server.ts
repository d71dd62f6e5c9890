/**
 * A dedicated ClickHouse server for fault tests that stop, kill and pause it,
 * so the stack's servers are never touched: Debian's 18.16 ('legacy') or the
 * current server from chdb's library ('current', see
 * test/stack/clickhouse-current.ts). Stopped by PID.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { currentServerArgs, dropSystemTableFolders, findLibchdb, writeCurrentServerConfig } from '../stack/clickhouse-current.js';
import { findClickhouseBinary, writeClickhouseConfig } from '../stack/services.js';
import { waitUntil } from './wait.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export class DedicatedClickHouse {
  constructor(readonly kind: 'legacy' | 'current' = 'legacy') {}

  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-ch-'));
  httpPort = 0;
  private tcpPort = 0;
  private mounted = false;

  /** The server's data folder. */
  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /**
   * Puts the data folder on a tmpfs of `mb` MiB, for disk-full tests (root
   * only); false when this machine does not allow it.
   */
  mountSmallDisk(mb: number): boolean {
    mkdirSync(this.dataDir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', this.dataDir], { stdio: 'ignore' });
      this.mounted = true;
      return true;
    } catch {
      return false;
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async start(): Promise<void> {
    if (!this.httpPort) {
      this.httpPort = await freePort();
      this.tcpPort = await freePort();
    }
    mkdirSync(this.dataDir, { recursive: true });
    if (this.kind === 'current') {
      const lib = findLibchdb();
      if (!lib) throw new Error('libchdb.so not found (npm install)');
      const config = writeCurrentServerConfig(this.dir, this.dataDir);
      dropSystemTableFolders(this.dataDir);
      this.child = spawn('python3', currentServerArgs(lib, this.dataDir, config, this.httpPort, this.tcpPort), { cwd: this.dir, stdio: 'ignore' });
    } else {
      const bin = findClickhouseBinary();
      if (!bin) throw new Error('clickhouse-server is not installed');
      const config = writeClickhouseConfig(this.dir, this.dataDir, this.httpPort, this.tcpPort);
      this.child = spawn(bin, [`--config-file=${config}`], { cwd: this.dir, stdio: 'ignore' });
    }
    await waitUntil(
      'dedicated ClickHouse ready',
      async () => {
        const res = await fetch(`${this.url}/?query=SELECT%201`);
        return res.ok;
      },
      60_000,
      100,
    );
  }

  /** Stops the server by its PID (SIGKILL: an outage, not a clean shutdown). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** Pauses the server (SIGSTOP): it hangs instead of refusing, as a stuck server does. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Resumes a paused server (SIGCONT). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    this.resume();
    await this.stop();
    if (this.mounted) execFileSync('umount', [this.dataDir], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
