/**
 * The three servers of the local test stack, each as install / start / ready:
 * - Kafka (KRaft, broker + controller in one JVM) from Maven Central jars;
 * - ClickHouse server from Debian's `clickhouse-server` package (18.16);
 * - a current ClickHouse server (26.7) from chdb's library (clickhouse-current.ts);
 * - s3proxy (an S3 API over a filesystem folder) from Maven Central jars;
 * - ElasticMQ (an SQS API, in memory) from Maven Central jars.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { versionAtLeast } from '../../src/schema/migrate.js';
import { currentServerMinVersion, launchCurrentServer } from './clickhouse-current.js';
import { cacheDir, clusterPorts, repoRoot, stackConfig, stateDir } from './config.js';
import { canConnect, isAlive, readPid, spawnDetached, stopPid, waitFor } from './proc.js';

export interface Service {
  name: string;
  install(): void;
  start(): Promise<'started' | 'already-running'>;
  stop(): Promise<'stopped' | 'not-running'>;
  status(): Promise<string>;
}

function log(msg: string): void {
  process.stderr.write(`[stack] ${msg}\n`);
}

/** Copies a Maven profile's jars into the cache once; returns the folder. */
function mavenJars(profile: string, version: string, property: string): string {
  const dir = path.join(cacheDir, 'stack', `${profile}-${version}`);
  const marker = path.join(dir, '.complete');
  if (existsSync(marker)) return dir;
  log(`fetching ${profile} ${version} jars from Maven Central into ${path.relative(repoRoot, dir)} ...`);
  mkdirSync(dir, { recursive: true });
  execFileSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      path.join(repoRoot, 'test', 'stack', 'pom.xml'),
      '-P',
      profile,
      `-D${property}=${version}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${dir}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (readdirSync(dir).filter((f) => f.endsWith('.jar')).length === 0) throw new Error(`no jars were copied into ${dir}`);
  writeFileSync(marker, new Date().toISOString());
  return dir;
}

function serviceFiles(name: string) {
  const dir = path.join(stateDir, name);
  return { dir, pidFile: path.join(dir, 'pid'), logFile: path.join(dir, 'server.log'), dataDir: path.join(dir, 'data') };
}

async function genericStatus(name: string, ready: () => Promise<boolean>): Promise<string> {
  const { pidFile } = serviceFiles(name);
  const pid = readPid(pidFile);
  if (pid === undefined || !isAlive(pid)) return `${name}: stopped`;
  return `${name}: pid ${pid}, ${(await ready().catch(() => false)) ? 'ready' : 'not ready'}`;
}

/** Shared start logic: skip when our PID is alive and ready, else spawn and wait. */
async function startWith(
  name: string,
  ready: () => Promise<boolean>,
  launch: (files: ReturnType<typeof serviceFiles>) => number,
): Promise<'started' | 'already-running'> {
  const files = serviceFiles(name);
  mkdirSync(files.dataDir, { recursive: true });
  const pid = readPid(files.pidFile);
  if (pid !== undefined && isAlive(pid)) {
    await waitFor(name, ready, { timeoutMs: stackConfig.readyTimeoutMs, pid, logFile: files.logFile });
    return 'already-running';
  }
  const newPid = launch(files);
  await waitFor(name, ready, { timeoutMs: stackConfig.readyTimeoutMs, pid: newPid, logFile: files.logFile });
  log(`${name} ready (pid ${newPid})`);
  return 'started';
}

// ---------------------------------------------------------------- Kafka
async function kafkaReady(): Promise<boolean> {
  if (!(await canConnect(stackConfig.kafkaPort))) return false;
  const admin = new Kafka({
    brokers: [`127.0.0.1:${stackConfig.kafkaPort}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect();
  }
}

export const kafka: Service = {
  name: 'kafka',
  install() {
    mavenJars('kafka', stackConfig.kafkaVersion, 'kafka.version');
  },
  start() {
    return startWith('kafka', kafkaReady, (f) => {
      const jars = mavenJars('kafka', stackConfig.kafkaVersion, 'kafka.version');
      const props = path.join(f.dir, 'server.properties');
      const { kafkaPort: p, kafkaControllerPort: c, kafkaSaslPort: sp, kafkaUsers } = stackConfig;
      const jaasUsers = Object.entries(kafkaUsers)
        .map(([u, pw]) => `user_${u}="${pw}"`)
        .join(' ');
      writeFileSync(
        props,
        [
          'process.roles=broker,controller',
          'node.id=1',
          `controller.quorum.voters=1@127.0.0.1:${c}`,
          `listeners=PLAINTEXT://127.0.0.1:${p},SASL_PLAINTEXT://127.0.0.1:${sp},CONTROLLER://127.0.0.1:${c}`,
          `advertised.listeners=PLAINTEXT://127.0.0.1:${p},SASL_PLAINTEXT://127.0.0.1:${sp}`,
          'controller.listener.names=CONTROLLER',
          'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
          // A SASL listener with ACLs, for the tests of refusals (a user without rights, a wrong password). The
          // plain listener's anonymous principal (tests, the broker itself) and user weblog are super users;
          // user nobody has no ACL at all.
          'sasl.enabled.mechanisms=PLAIN',
          `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${jaasUsers};`,
          'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
          'super.users=User:ANONYMOUS;User:weblog',
          'allow.everyone.if.no.acl.found=false',
          'inter.broker.listener.name=PLAINTEXT',
          `log.dirs=${f.dataDir}`,
          'num.partitions=1',
          'auto.create.topics.enable=false',
          // One broker: every internal topic must have replication factor 1.
          'offsets.topic.replication.factor=1',
          'offsets.topic.num.partitions=4',
          'transaction.state.log.replication.factor=1',
          'transaction.state.log.min.isr=1',
          'transaction.state.log.num.partitions=4',
          'share.coordinator.state.topic.replication.factor=1',
          'share.coordinator.state.topic.min.isr=1',
          // Tests create many short-lived consumer groups: do not wait 3 s per join.
          'group.initial.rebalance.delay.ms=0',
          'log.flush.interval.messages=9223372036854775807',
          '',
        ].join('\n'),
      );
      const log4j = path.join(f.dir, 'log4j.properties');
      writeFileSync(
        log4j,
        [
          'log4j.rootLogger=WARN, stdout',
          'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
          'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
          'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
          'log4j.logger.kafka.server.KafkaRaftServer=INFO',
          '',
        ].join('\n'),
      );
      const java = ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', `-Dlog4j.configuration=file:${log4j}`, '-cp', `${jars}/*`];
      if (!existsSync(path.join(f.dataDir, 'meta.properties'))) {
        // A fixed cluster id keeps `up` idempotent: the data folder is formatted once.
        execFileSync('java', [...java, 'kafka.tools.StorageTool', 'format', '-t', 'd2VibG9nLXN0YWNrLWlk', '-c', props, '--ignore-formatted'], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
      }
      return spawnDetached({ command: 'java', args: [...java, 'kafka.Kafka', props], cwd: f.dir, logFile: f.logFile, pidFile: f.pidFile });
    });
  },
  stop: () => stopPid(serviceFiles('kafka').pidFile),
  status: () => genericStatus('kafka', kafkaReady),
};

// ---------------------------------------------------------------- ClickHouse
async function clickhouseReady(): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${stackConfig.clickhouseHttpPort}/ping`, { signal: AbortSignal.timeout(1000) });
  return res.ok && (await res.text()).startsWith('Ok');
}

function findClickhouseServer(): string | undefined {
  for (const p of ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server', '/usr/local/bin/clickhouse-server']) if (existsSync(p)) return p;
  return undefined;
}

/** Writes config.xml and users.xml of a loopback-only ClickHouse server into `dir`; `extra` is XML added inside <yandex>. */
export function writeClickhouseConfig(dir: string, dataDir: string, httpPort: number, tcpPort: number, extra = ''): string {
  const d = dataDir;
  writeFileSync(
    path.join(dir, 'config.xml'),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/clickhouse.log</log><errorlog>${dir}/clickhouse.err.log</errorlog><size>50M</size><count>2</count></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <max_concurrent_queries>200</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <path>${d}/</path>
  <tmp_path>${d}/tmp/</tmp_path>
  <user_files_path>${d}/user_files/</user_files_path>
  <format_schema_path>${d}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
${extra}</yandex>
`,
  );
  writeFileSync(
    path.join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`,
  );
  return path.join(dir, 'config.xml');
}

/** Writes a server's configuration into its folder and starts it; returns its PID. */
function launchClickhouse(f: ReturnType<typeof serviceFiles>, httpPort: number, tcpPort: number, extra = ''): number {
  const bin = findClickhouseServer();
  if (!bin) throw new Error('clickhouse-server is not installed (npm run stack -- install)');
  writeClickhouseConfig(f.dir, f.dataDir, httpPort, tcpPort, extra);
  return spawnDetached({ command: bin, args: [`--config-file=${path.join(f.dir, 'config.xml')}`], cwd: f.dir, logFile: f.logFile, pidFile: f.pidFile });
}

export function findClickhouseBinary(): string | undefined {
  return findClickhouseServer();
}

export const clickhouse: Service = {
  name: 'clickhouse',
  install() {
    if (findClickhouseServer()) return;
    if (process.getuid?.() !== 0) throw new Error('clickhouse-server is not installed: run `sudo apt-get install clickhouse-server`');
    log('installing clickhouse-server from Debian ...');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'clickhouse-server'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  },
  start() {
    return startWith('clickhouse', clickhouseReady, (f) => launchClickhouse(f, stackConfig.clickhouseHttpPort, stackConfig.clickhouseTcpPort));
  },
  stop: () => stopPid(serviceFiles('clickhouse').pidFile),
  status: () => genericStatus('clickhouse', clickhouseReady),
};

// ---------------------------------------------------------------- current ClickHouse (chdb's library as a server)
const currentVersion = async (): Promise<string> => {
  const res = await fetch(`http://127.0.0.1:${stackConfig.clickhouseCurrentHttpPort}/?query=SELECT%20version()`, { signal: AbortSignal.timeout(1000) });
  return res.ok ? (await res.text()).trim() : '';
};
const currentReady = async (): Promise<boolean> => (await currentVersion()) !== '';

export const clickhouseCurrent: Service = {
  name: 'clickhouse-current',
  install() {},
  async start() {
    const started = await startWith('clickhouse-current', currentReady, (f) =>
      launchCurrentServer(f, stackConfig.clickhouseCurrentHttpPort, stackConfig.clickhouseCurrentTcpPort),
    );
    const version = await currentVersion();
    if (!versionAtLeast(version, currentServerMinVersion))
      throw new Error(
        `the current ClickHouse server is ${version}; the tests need ${currentServerMinVersion} or newer (chdb's library: npm install a newer chdb)`,
      );
    return started;
  },
  stop: () => stopPid(serviceFiles('clickhouse-current').pidFile),
  status: () => genericStatus('clickhouse-current', currentReady),
};

/** A logback configuration that logs warnings and errors only, for the stack's Java servers (s3proxy, ElasticMQ); its path. */
function warningsOnly(dir: string): string {
  const file = path.join(dir, 'logback.xml');
  writeFileSync(
    file,
    `<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender"><encoder><pattern>%d %level %logger{20} - %msg%n</pattern></encoder></appender>
  <root level="WARN"><appender-ref ref="STDOUT"/></root>
</configuration>
`,
  );
  return file;
}

// ---------------------------------------------------------------- S3 (s3proxy)
async function s3Ready(): Promise<boolean> {
  // Any HTTP answer (403 for an unsigned request) means the S3 API is up.
  const res = await fetch(`http://127.0.0.1:${stackConfig.s3Port}/`, { signal: AbortSignal.timeout(1000) });
  return res.status > 0;
}

export const s3: Service = {
  name: 's3',
  install() {
    mavenJars('s3proxy', stackConfig.s3proxyVersion, 's3proxy.version');
  },
  start() {
    return startWith('s3', s3Ready, (f) => {
      const jars = mavenJars('s3proxy', stackConfig.s3proxyVersion, 's3proxy.version');
      const conf = path.join(f.dir, 's3proxy.conf');
      writeFileSync(
        conf,
        [
          `s3proxy.endpoint=http://127.0.0.1:${stackConfig.s3Port}`,
          's3proxy.authorization=aws-v2-or-v4',
          `s3proxy.identity=${stackConfig.s3AccessKeyId}`,
          `s3proxy.credential=${stackConfig.s3SecretAccessKey}`,
          'jclouds.provider=filesystem',
          `jclouds.filesystem.basedir=${f.dataDir}`,
          '',
        ].join('\n'),
      );
      const logback = warningsOnly(f.dir);
      return spawnDetached({
        command: 'java',
        args: ['-Xmx256m', `-Dlogback.configurationFile=${logback}`, '-cp', `${jars}/*`, 'org.gaul.s3proxy.Main', '--properties', conf],
        cwd: f.dir,
        logFile: f.logFile,
        pidFile: f.pidFile,
      });
    });
  },
  stop: () => stopPid(serviceFiles('s3').pidFile),
  status: () => genericStatus('s3', s3Ready),
};

// ---------------------------------------------------------------- SQS (ElasticMQ)
async function sqsReady(): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${stackConfig.sqsPort}/?Action=ListQueues`, { signal: AbortSignal.timeout(1000) });
  return res.status === 200;
}

export const sqs: Service = {
  name: 'sqs',
  install() {
    mavenJars('elasticmq', stackConfig.elasticmqVersion, 'elasticmq.version');
  },
  start() {
    return startWith('sqs', sqsReady, (f) => {
      const jars = mavenJars('elasticmq', stackConfig.elasticmqVersion, 'elasticmq.version');
      const conf = path.join(f.dir, 'elasticmq.conf');
      const port = stackConfig.sqsPort;
      writeFileSync(
        conf,
        [
          'include classpath("application.conf")',
          `node-address { protocol = http, host = 127.0.0.1, port = ${port}, context-path = "" }`,
          `rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }`,
          'rest-stats { enabled = false }',
          '',
        ].join('\n'),
      );
      const logback = warningsOnly(f.dir);
      return spawnDetached({
        command: 'java',
        args: ['-Xmx256m', `-Dconfig.file=${conf}`, `-Dlogback.configurationFile=${logback}`, '-cp', `${jars}/*`, 'org.elasticmq.server.Main'],
        cwd: f.dir,
        logFile: f.logFile,
        pidFile: f.pidFile,
      });
    });
  },
  stop: () => stopPid(serviceFiles('sqs').pidFile),
  status: () => genericStatus('sqs', sqsReady),
};

export const services: Service[] = [kafka, clickhouse, clickhouseCurrent, s3, sqs];

// ---------------------------------------------------------------- the cluster (up --cluster)
function zookeeperReady(): Promise<boolean> {
  // The four-letter word "ruok" (whitelisted below) answers "imok".
  return new Promise((resolve) => {
    const sock = net.connect(stackConfig.zookeeperPort, '127.0.0.1');
    let data = '';
    sock.setTimeout(1000, () => (sock.destroy(), resolve(false)));
    sock.on('connect', () => sock.write('ruok'));
    sock.on('data', (d) => (data += d.toString()));
    sock.on('error', () => resolve(false));
    sock.on('close', () => resolve(data === 'imok'));
  });
}

/** ZooKeeper from the jar Kafka already brings (the Kafka profile's jars), one node, on loopback. */
export const zookeeper: Service = {
  name: 'zookeeper',
  install() {
    mavenJars('kafka', stackConfig.kafkaVersion, 'kafka.version');
  },
  start() {
    return startWith('zookeeper', zookeeperReady, (f) => {
      const jars = mavenJars('kafka', stackConfig.kafkaVersion, 'kafka.version');
      const cfg = path.join(f.dir, 'zoo.cfg');
      writeFileSync(
        cfg,
        [
          'tickTime=2000',
          `dataDir=${f.dataDir}`,
          `clientPort=${stackConfig.zookeeperPort}`,
          'clientPortAddress=127.0.0.1',
          'maxClientCnxns=0',
          'admin.enableServer=false',
          '4lw.commands.whitelist=ruok',
          '',
        ].join('\n'),
      );
      return spawnDetached({
        command: 'java',
        args: ['-Xmx256m', '-cp', `${jars}/*`, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg],
        cwd: f.dir,
        logFile: f.logFile,
        pidFile: f.pidFile,
      });
    });
  },
  stop: () => stopPid(serviceFiles('zookeeper').pidFile),
  status: () => genericStatus('zookeeper', zookeeperReady),
};

/** Replica n of the cluster's one shard: its macros, the cluster, ZooKeeper and the distributed DDL queue. */
function clusterReplica(n: number): Service {
  const name = `clickhouse-r${n}`;
  const ports = clusterPorts(n);
  // Ready when it answers and its ZooKeeper session works (the first DDL after a start failed with "Session expired").
  const ready = async () => {
    const res = await fetch(`http://127.0.0.1:${ports.http}/?query=${encodeURIComponent("SELECT count() FROM system.zookeeper WHERE path = '/'")}`, {
      signal: AbortSignal.timeout(2000),
    });
    return res.ok;
  };
  const replicas = Array.from(
    { length: stackConfig.clusterReplicas },
    (_, i) => `<replica><host>127.0.0.1</host><port>${clusterPorts(i + 1).tcp}</port></replica>`,
  ).join('');
  return {
    name,
    install: () => clickhouse.install(),
    start() {
      return startWith(name, ready, (f) => {
        const extra = `  <interserver_http_port>${ports.interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <zookeeper><node><host>127.0.0.1</host><port>${stackConfig.zookeeperPort}</port></node></zookeeper>
  <remote_servers><${stackConfig.clusterName}><shard><internal_replication>true</internal_replication>${replicas}</shard></${stackConfig.clusterName}></remote_servers>
  <macros><shard>1</shard><replica>r${n}</replica></macros>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
`;
        // A replica the tests killed with -9 may come back with parts ZooKeeper does not list, and 18.16 then
        // refuses to start ("The local set of parts ... doesn't look like the set of parts in ZooKeeper";
        // seen once in CI). ClickHouse's documented remedy: the force_restore_data flag (it deletes it after use).
        mkdirSync(path.join(f.dataDir, 'flags'), { recursive: true });
        writeFileSync(path.join(f.dataDir, 'flags', 'force_restore_data'), '');
        return launchClickhouse(f, ports.http, ports.tcp, extra);
      });
    },
    stop: () => stopPid(serviceFiles(name).pidFile),
    status: () => genericStatus(name, ready),
  };
}

export const clusterServices: Service[] = [zookeeper, ...Array.from({ length: stackConfig.clusterReplicas }, (_, i) => clusterReplica(i + 1))];

/** Stops any cluster process still running from an earlier start, then empties the cluster's data folders. */
export async function resetClusterData(): Promise<void> {
  for (const s of clusterServices) await s.stop();
  for (const s of clusterServices) rmSync(serviceFiles(s.name).dataDir, { recursive: true, force: true });
}

/** Where a cluster service keeps its PID (tests kill and restart replicas by it). */
export function servicePidFile(name: string): string {
  return serviceFiles(name).pidFile;
}
