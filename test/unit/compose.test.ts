/**
 * compose.yaml has no Docker engine here to run it: its shape is checked
 * instead (what a new user hit: every service running `npm ci` into the
 * host's node_modules, a Kafka the host could not reach, no "logs" bucket,
 * unpinned images).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/datasets.js';

interface Service {
  image?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
}

interface Compose {
  services: Record<string, Service & { profiles?: string[]; configs?: { source: string; target: string }[] }>;
  volumes: Record<string, unknown>;
  configs: Record<string, { content: string }>;
}
function load(): Compose {
  return parse(readFileSync(path.join(repoRoot, 'compose.yaml'), 'utf8'), { merge: true }) as Compose; // merge keys (<<) as Compose reads them
}

describe('compose.yaml', () => {
  const compose = load();
  const services = Object.entries(compose.services);

  it('pins every image to a version', () => {
    for (const [name, s] of services) {
      expect(s.image, name).toBeDefined();
      expect(s.image, name).not.toMatch(/:latest$|^[^:]+$/);
    }
  });

  it('installs the packages once, into a volume, not into the host node_modules', () => {
    const installers = services.filter(([, s]) => JSON.stringify(s.command ?? '').includes('npm'));
    expect(installers.map(([n]) => n)).toEqual(['weblog-deps']);
    for (const [name, s] of services.filter(([n]) => n.startsWith('weblog'))) {
      expect(s.volumes, name).toContain('weblog-node-modules:/app/node_modules');
      if (name !== 'weblog-deps')
        expect((s.depends_on as Record<string, { condition: string }>)['weblog-deps'], name).toEqual({ condition: 'service_completed_successfully' });
    }
    expect(compose.volumes).toHaveProperty('weblog-node-modules');
  });

  it('lets the host reach Kafka on its advertised address, and containers on theirs', () => {
    const k = compose.services.kafka as Service;
    expect(k.ports).toContain('29092:29092');
    expect(k.environment?.KAFKA_ADVERTISED_LISTENERS).toBe('PLAINTEXT://kafka:9092,EXTERNAL://localhost:29092');
    expect(compose.services['weblog-process']?.environment?.KAFKA_BROKERS).toBe('kafka:9092');
  });

  it('creates the logs bucket the shipper reads', () => {
    expect(JSON.stringify(compose.services['minio-init']?.entrypoint)).toContain('mc mb --ignore-existing local/logs');
    expect(JSON.stringify(compose.services['weblog-ship']?.command)).toContain('s3://logs/');
  });

  it('has a cluster profile: Keeper, two replicas of one shard, the migrations once ON CLUSTER before the processors', () => {
    const cluster = services.filter(([, s]) => s.profiles?.includes('cluster')).map(([n]) => n);
    expect(cluster.sort()).toEqual(['clickhouse-r1', 'clickhouse-r2', 'keeper', 'weblog-migrate-cluster', 'weblog-process-cluster']);
    expect(compose.services['clickhouse-r1']?.environment?.CLICKHOUSE_REPLICA).toBe('r1');
    expect(compose.services['clickhouse-r2']?.environment?.CLICKHOUSE_REPLICA).toBe('r2');
    expect(compose.services['clickhouse-r2']?.volumes).toEqual(['clickhouse-r2-data:/var/lib/clickhouse']);
    expect(compose.services['weblog-migrate-cluster']?.command).toEqual(['node', 'bin/weblog.js', 'migrate', '--cluster', 'weblog']);
    expect(compose.services['weblog-process-cluster']?.environment?.CLICKHOUSE_CLUSTER).toBe('weblog');
    expect((compose.services['weblog-process-cluster']?.depends_on as Record<string, { condition: string }>)['weblog-migrate-cluster']).toEqual({
      condition: 'service_completed_successfully',
    });
    // The server config names the cluster weblog uses, both replicas, Keeper and a per-node replica macro.
    const xml = compose.configs['cluster-config']?.content ?? '';
    expect(xml).toMatch(/<remote_servers>\s*<weblog>/);
    expect(xml).toContain('<replica><host>clickhouse-r1</host><port>9000</port></replica>');
    expect(xml).toContain('<replica><host>clickhouse-r2</host><port>9000</port></replica>');
    expect(xml).toContain('<node><host>keeper</host><port>9181</port></node>');
    expect(xml).toContain('<replica from_env="CLICKHOUSE_REPLICA"/>');
    const parsed = execFileSync(
      'python3',
      ['-c', 'import sys,xml.dom.minidom as m; [m.parseString(x) for x in sys.argv[1:]]; print("ok")', xml, compose.configs['keeper-config']?.content ?? ''],
      {
        encoding: 'utf8',
      },
    );
    expect(parsed.trim()).toBe('ok');
  });
});
