/** Programmatic control of the local test stack (used by cli.ts and vitest's globalSetup). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { localEndpoints, stateDir, type Endpoints } from './config.js';
import { services } from './services.js';

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
