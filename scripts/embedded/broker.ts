// The embedded Apache Kafka nodes: each a KRaft broker and controller in one
// process. One node for the plain and secure stacks, tuned for fast and
// still-correct single-node tests (transactions with a one-replica state log,
// no initial rebalance delay); three for the cluster stack, with the msk
// profile's replication 3 and min ISR 2 for every internal topic. Never
// automatic topic creation.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureKafkaJars } from './artifacts.ts';
import { KAFKA_VERSION, kafkaUsesLog4j2, layout, stacks, type KafkaNode, type Stack } from './layout.ts';
import { commandLineOf, EmbeddedError, javaCommand, logPath, requireFreePort, runningPid, startDetached, waitFor } from './processes.ts';
import { oauthBearerInternalBrokers, oauthBearerServerProperties } from './oauthbearer.ts';
import { scramFormatArgs, secureClientEnv, secureServerProperties } from './secure.ts';
import { connectAdmin } from '../../services/platform/kafka/admin.ts';
import { loadConfig, type KafkaSecurity } from '../../services/platform/config.ts';
import { createLogger } from '../../services/platform/logger.ts';

function serverProperties(stack: Stack, node: KafkaNode): string {
  const { ports } = node;
  const { factor, minInsync } = stack.replication;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': stack.nodes.map((n) => `${n.id}@127.0.0.1:${n.ports.controller}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${ports.kafka},CONTROLLER://127.0.0.1:${ports.controller}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${ports.kafka}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': node.data,
    'num.partitions': 1,
    'default.replication.factor': factor,
    'min.insync.replicas': minInsync,
    'auto.create.topics.enable': false,
    'offsets.topic.replication.factor': factor,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': factor,
    'transaction.state.log.min.isr': minInsync,
    'transaction.state.log.num.partitions': 4,
    'group.initial.rebalance.delay.ms': 0,
    // Tests create and delete many prefixed topics; let deletion go through.
    'delete.topic.enable': true,
    // A controlled shutdown moves leadership away first, as a rolling restart on MSK does.
    'controlled.shutdown.enable': true,
    ...(stack.mode === 'secure' ? secureServerProperties() : {}),
    ...(stack.mode === 'oauthbearer' ? oauthBearerServerProperties(stack) : {}),
    ...stack.serverOverrides,
  };
  return `${Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
`;

const LOG4J2 = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: state.change.logger
        level: WARN
`;

function logOption(node: KafkaNode): string {
  return kafkaUsesLog4j2(KAFKA_VERSION) ? `-Dlog4j2.configurationFile=${node.logConfig}` : `-Dlog4j.configuration=file:${node.logConfig}`;
}

function classpath(libs: string): string {
  return `${libs}${path.sep}*`;
}

/** One cluster id for every node of a stack, made with the first format. */
function clusterId(libs: string, stack: Stack, node: KafkaNode): string {
  const file = path.join(stack.dir, 'cluster-id');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const uuid = spawnSync(javaCommand(), ['-cp', classpath(libs), logOption(node), 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' });
  const id = uuid.stdout.trim().split('\n').pop();
  if (uuid.status !== 0 || !id) throw new EmbeddedError(`could not generate a cluster id: ${uuid.stderr.trim()}`);
  fs.mkdirSync(stack.dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, `${id}\n`);
  return id;
}

function formatStorageOnce(libs: string, stack: Stack, node: KafkaNode): void {
  if (fs.existsSync(path.join(node.data, 'meta.properties'))) return;
  // The secure stack's SCRAM users exist from the first start (credentials() makes them before the data dir).
  const scram = stack.mode === 'secure' ? scramFormatArgs() : [];
  const id = clusterId(libs, stack, node);
  fs.mkdirSync(node.data, { recursive: true });
  const format = spawnSync(javaCommand(), ['-cp', classpath(libs), logOption(node), 'kafka.tools.StorageTool', 'format', '-t', id, '-c', node.config, ...scram], { encoding: 'utf8' });
  if (format.status !== 0) throw new EmbeddedError(`could not format Kafka storage: ${format.stdout}${format.stderr}`.trim());
}

/** How an operator's client reaches the stack: as its admin principal in secure mode, over the internal plaintext listener in oauthbearer mode. */
function operatorAccess(stack: Stack, nodes: KafkaNode[] = stack.nodes): { brokers: string[]; security: KafkaSecurity } {
  if (stack.mode === 'oauthbearer') return { brokers: oauthBearerInternalBrokers(nodes), security: {} };
  const security = stack.mode === 'secure' ? loadConfig(secureClientEnv('admin')).kafka.security : {};
  return { brokers: nodes.map((n) => `127.0.0.1:${n.ports.kafka}`), security };
}

/** An admin connection to the stack's brokers, as its admin principal in secure mode. */
export function stackAdmin(stack: Stack, clientId: string, connectionTimeoutMs = 3000) {
  return connectAdmin({ ...operatorAccess(stack), clientId, connectionTimeoutMs, logger: createLogger(clientId, 'silent') });
}

/** True once a node answers and the cluster has as many brokers as the stack has nodes. */
async function clusterAnswers(stack: Stack, node: KafkaNode): Promise<boolean> {
  try {
    const admin = await connectAdmin({ ...operatorAccess(stack, [node]), clientId: 'embedded-probe', connectionTimeoutMs: 1000, logger: createLogger('embedded-probe', 'silent') });
    try {
      const { brokers } = await admin.describeCluster();
      return brokers.length >= stack.nodes.length;
    } finally {
      await admin.disconnect();
    }
  } catch {
    return false;
  }
}

/** Refuses to treat a running node of another Kafka release as this one. */
function requireSameVersion(node: KafkaNode, pid: number): void {
  const args = commandLineOf(pid) ?? '';
  if (!args.includes(layout.kafkaLibs)) {
    throw new EmbeddedError(`${node.process} (pid ${pid}) runs another Kafka release than ${KAFKA_VERSION}: stop it first with npm run kafka -- down`);
  }
}

/** Starts one node (unless it runs already) without waiting for it. */
async function launchNode(log: (line: string) => void, libs: string, stack: Stack, node: KafkaNode): Promise<{ pid: number; started: boolean }> {
  const existing = runningPid(node.process);
  if (existing !== undefined) {
    requireSameVersion(node, existing);
    return { pid: existing, started: false };
  }
  await requireFreePort(node.ports.kafka, 'Kafka');
  await requireFreePort(node.ports.controller, 'Kafka controller');
  if (node.ports.internal) await requireFreePort(node.ports.internal, 'Kafka inter-broker listener');
  fs.mkdirSync(node.dir, { recursive: true, mode: 0o700 });
  // Holds the key store passwords in secure mode.
  fs.writeFileSync(node.config, serverProperties(stack, node), { mode: 0o600 });
  fs.writeFileSync(node.logConfig, kafkaUsesLog4j2(KAFKA_VERSION) ? LOG4J2 : LOG4J);
  formatStorageOnce(libs, stack, node);
  const modes: Partial<Record<Stack['mode'], string>> = { secure: ' (secure: SASL_SSL, SCRAM-SHA-512, ACLs)', oauthbearer: ' (SASL_SSL, OAUTHBEARER with unsecured JWTs)' };
  const what = modes[stack.mode] ?? '';
  log(`starting Kafka ${KAFKA_VERSION}${stack.nodes.length > 1 ? ` node ${node.id}` : ''}${what} on 127.0.0.1:${node.ports.kafka} (log: ${logPath(node.process)})`);
  const pid = startDetached(node.process, [`-Xms256m`, `-Xmx${stack.heap}`, '-XX:+UseG1GC', '-Djava.awt.headless=true', logOption(node), '-cp', classpath(libs), 'kafka.Kafka', node.config]);
  return { pid, started: true };
}

/** Starts (or finds running) every node of the stack and waits until the cluster is whole. */
export async function startBroker(log: (line: string) => void, stack: Stack = stacks.plain): Promise<{ started: boolean }> {
  const libs = ensureKafkaJars(log);
  const launched = [];
  // A KRaft quorum of three needs its voters up together: launch all, then wait.
  for (const node of stack.nodes) launched.push({ node, ...(await launchNode(log, libs, stack, node)) });
  for (const { node, pid } of launched) await waitFor(node.process, pid, 120_000, () => clusterAnswers(stack, node));
  return { started: launched.some((l) => l.started) };
}

/** Starts one node of a stack again (after it was stopped or killed), and waits until it answers. */
export async function startNode(log: (line: string) => void, stack: Stack, node: KafkaNode): Promise<void> {
  const { pid } = await launchNode(log, ensureKafkaJars(log), stack, node);
  await waitFor(node.process, pid, 120_000, () => clusterAnswers(stack, node));
}
