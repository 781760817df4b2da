// The embedded Apache Kafka: one KRaft node acting as broker and controller,
// tuned for fast and still-correct single-node tests (transactions with a
// one-replica state log, no initial rebalance delay, no auto-created topics).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureKafkaJars } from './artifacts.ts';
import { embeddedBrokers, layout, ports } from './layout.ts';
import { EmbeddedError, javaCommand, logPath, requireFreePort, runningPid, startDetached, waitFor } from './processes.ts';
import { connectAdmin } from '../../services/platform/kafka/admin.ts';
import { createLogger } from '../../services/platform/logger.ts';

function serverProperties(): string {
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${ports.kafkaController}`,
    listeners: `PLAINTEXT://127.0.0.1:${ports.kafka},CONTROLLER://127.0.0.1:${ports.kafkaController}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${ports.kafka}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': layout.kafkaData,
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

function formatStorageOnce(libs: string): void {
  if (fs.existsSync(path.join(layout.kafkaData, 'meta.properties'))) return;
  fs.mkdirSync(layout.kafkaData, { recursive: true });
  const java = javaCommand();
  const base = ['-cp', classpath(libs), `-Dlog4j.configuration=file:${layout.kafkaLog4j}`, 'kafka.tools.StorageTool'];
  const uuid = spawnSync(java, [...base, 'random-uuid'], { encoding: 'utf8' });
  const clusterId = uuid.stdout.trim().split('\n').pop();
  if (uuid.status !== 0 || !clusterId) throw new EmbeddedError(`could not generate a cluster id: ${uuid.stderr.trim()}`);
  const format = spawnSync(java, [...base, 'format', '-t', clusterId, '-c', layout.kafkaConfig], { encoding: 'utf8' });
  if (format.status !== 0) throw new EmbeddedError(`could not format Kafka storage: ${format.stdout}${format.stderr}`.trim());
}

async function brokerAnswers(): Promise<boolean> {
  try {
    const admin = await connectAdmin({ brokers: [embeddedBrokers], clientId: 'embedded-probe', connectionTimeoutMs: 1000, logger: createLogger('probe', 'silent') });
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

export async function startBroker(log: (line: string) => void): Promise<{ pid: number; started: boolean }> {
  const existing = runningPid('kafka');
  if (existing !== undefined) {
    await waitFor('kafka', existing, 60_000, brokerAnswers);
    return { pid: existing, started: false };
  }
  await requireFreePort(ports.kafka, 'Kafka');
  await requireFreePort(ports.kafkaController, 'Kafka controller');
  const libs = ensureKafkaJars(log);
  fs.mkdirSync(path.dirname(layout.kafkaConfig), { recursive: true });
  fs.writeFileSync(layout.kafkaConfig, serverProperties());
  fs.writeFileSync(layout.kafkaLog4j, LOG4J);
  formatStorageOnce(libs);
  log(`starting Kafka on ${embeddedBrokers} (log: ${logPath('kafka')})`);
  const pid = startDetached('kafka', [
    '-Xms256m', '-Xmx768m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${layout.kafkaLog4j}`,
    '-cp', classpath(libs),
    'kafka.Kafka', layout.kafkaConfig,
  ]);
  await waitFor('kafka', pid, 90_000, brokerAnswers);
  return { pid, started: true };
}
