// The embedded Apache Kafka: one KRaft node acting as broker and controller,
// tuned for fast and still-correct single-node tests (transactions with a
// one-replica state log, no initial rebalance delay, no auto-created topics).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureKafkaJars } from './artifacts.ts';
import { stacks, type Stack } from './layout.ts';
import { EmbeddedError, javaCommand, logPath, requireFreePort, runningPid, startDetached, waitFor } from './processes.ts';
import { scramFormatArgs, secureClientEnv, secureServerProperties } from './secure.ts';
import { connectAdmin } from '../../services/platform/kafka/admin.ts';
import { loadConfig } from '../../services/platform/config.ts';
import { createLogger } from '../../services/platform/logger.ts';

function serverProperties(stack: Stack): string {
  const { ports } = stack;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${ports.kafkaController}`,
    listeners: `PLAINTEXT://127.0.0.1:${ports.kafka},CONTROLLER://127.0.0.1:${ports.kafkaController}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${ports.kafka}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': stack.kafkaData,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'auto.create.topics.enable': false,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 4,
    'group.initial.rebalance.delay.ms': 0,
    // Tests create and delete many prefixed topics; let deletion go through.
    'delete.topic.enable': true,
    ...(stack.mode === 'secure' ? secureServerProperties() : {}),
  };
  return `${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.controller=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.controller=INFO
`;

function classpath(libs: string): string {
  return `${libs}${path.sep}*`;
}

function formatStorageOnce(libs: string, stack: Stack): void {
  if (fs.existsSync(path.join(stack.kafkaData, 'meta.properties'))) return;
  // The secure stack's SCRAM users exist from the first start (credentials() makes them before the data dir).
  const scram = stack.mode === 'secure' ? scramFormatArgs() : [];
  fs.mkdirSync(stack.kafkaData, { recursive: true });
  const java = javaCommand();
  const base = ['-cp', classpath(libs), `-Dlog4j.configuration=file:${stack.kafkaLog4j}`, 'kafka.tools.StorageTool'];
  const uuid = spawnSync(java, [...base, 'random-uuid'], { encoding: 'utf8' });
  const clusterId = uuid.stdout.trim().split('\n').pop();
  if (uuid.status !== 0 || !clusterId) throw new EmbeddedError(`could not generate a cluster id: ${uuid.stderr.trim()}`);
  const format = spawnSync(java, [...base, 'format', '-t', clusterId, '-c', stack.kafkaConfig, ...scram], { encoding: 'utf8' });
  if (format.status !== 0) throw new EmbeddedError(`could not format Kafka storage: ${format.stdout}${format.stderr}`.trim());
}

/** An admin connection to the stack's broker, as its admin principal in secure mode. */
export function stackAdmin(stack: Stack, clientId: string, connectionTimeoutMs = 3000) {
  const security = stack.mode === 'secure' ? loadConfig(secureClientEnv('admin')).kafka.security : {};
  return connectAdmin({ brokers: [stack.brokers], clientId, security, connectionTimeoutMs, logger: createLogger(clientId, 'silent') });
}

async function brokerAnswers(stack: Stack): Promise<boolean> {
  try {
    const admin = await stackAdmin(stack, 'embedded-probe', 1000);
    try {
      await admin.describeCluster();
      return true;
    } finally {
      await admin.disconnect();
    }
  } catch {
    return false;
  }
}

export async function startBroker(log: (line: string) => void, stack: Stack = stacks.plain): Promise<{ pid: number; started: boolean }> {
  const existing = runningPid(stack.kafka);
  if (existing !== undefined) {
    await waitFor(stack.kafka, existing, 60_000, () => brokerAnswers(stack));
    return { pid: existing, started: false };
  }
  await requireFreePort(stack.ports.kafka, 'Kafka');
  await requireFreePort(stack.ports.kafkaController, 'Kafka controller');
  if (stack.ports.kafkaInternal) await requireFreePort(stack.ports.kafkaInternal, 'Kafka inter-broker listener');
  const libs = ensureKafkaJars(log);
  fs.mkdirSync(stack.kafkaDir, { recursive: true, mode: 0o700 });
  // Holds the key store passwords in secure mode.
  fs.writeFileSync(stack.kafkaConfig, serverProperties(stack), { mode: 0o600 });
  fs.writeFileSync(stack.kafkaLog4j, LOG4J);
  formatStorageOnce(libs, stack);
  log(`starting Kafka${stack.mode === 'secure' ? ' (secure: SASL_SSL, SCRAM-SHA-512, ACLs)' : ''} on ${stack.brokers} (log: ${logPath(stack.kafka)})`);
  const pid = startDetached(stack.kafka, [
    '-Xms256m', '-Xmx768m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${stack.kafkaLog4j}`,
    '-cp', classpath(libs),
    'kafka.Kafka', stack.kafkaConfig,
  ]);
  await waitFor(stack.kafka, pid, 90_000, () => brokerAnswers(stack));
  return { pid, started: true };
}
