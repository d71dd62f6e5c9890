/** Programmatic control of the local test stack (used by cli.ts and vitest's globalSetup). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { localClusterEndpoints, localEndpoints, stateDir, type ClusterEndpoints, type Endpoints } from './config.js';
import { clusterServices, resetClusterData, services } from './services.js';

export function install(): void {
  for (const s of services) s.install();
}

/** Starts every service that is not already running; returns the names it started. */
export async function up(): Promise<{ started: string[]; endpoints: Endpoints }> {
  install();
  const results = await Promise.all(services.map(async (s) => [s.name, await s.start()] as const));
  const endpoints = localEndpoints();
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(path.join(stateDir, 'endpoints.json'), JSON.stringify(endpoints, null, 2) + '\n');
  return { started: results.filter(([, r]) => r === 'started').map(([n]) => n), endpoints };
}

/** Stops the named services (all by default) by their saved PIDs. */
export async function down(names?: string[]): Promise<void> {
  await Promise.all(services.filter((s) => !names || names.includes(s.name)).map((s) => s.stop()));
}

export async function status(): Promise<string[]> {
  return Promise.all(services.map((s) => s.status()));
}

/** Starts ZooKeeper and the ClickHouse replicas of the local cluster (ZooKeeper first); returns the names it started. */
export async function upCluster(): Promise<{ started: string[]; endpoints: ClusterEndpoints }> {
  const [zk, ...replicas] = clusterServices;
  zk?.install();
  replicas[0]?.install();
  const started: string[] = [];
  // A cluster starting from scratch starts from empty folders: replicas whose tables point into an older
  // ZooKeeper state cannot start (their metadata names Keeper paths that are gone).
  if (zk && !(await zk.status()).endsWith('ready')) await resetClusterData();
  if (zk && (await zk.start()) === 'started') started.push(zk.name);
  const results = await Promise.all(replicas.map(async (s) => [s.name, await s.start()] as const));
  started.push(...results.filter(([, r]) => r === 'started').map(([n]) => n));
  return { started, endpoints: localClusterEndpoints() };
}

/** Stops the named cluster services (all by default): replicas first, then ZooKeeper. */
export async function downCluster(names?: string[]): Promise<void> {
  const chosen = clusterServices.filter((s) => !names || names.includes(s.name));
  await Promise.all(chosen.filter((s) => s.name !== 'zookeeper').map((s) => s.stop()));
  await Promise.all(chosen.filter((s) => s.name === 'zookeeper').map((s) => s.stop()));
}

export async function clusterStatus(): Promise<string[]> {
  return Promise.all(clusterServices.map((s) => s.status()));
}
