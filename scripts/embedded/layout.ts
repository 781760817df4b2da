// Where the embedded brokers and registry keep their artifacts, data, logs and
// pid files, and which ports they listen on. Everything lives under .local/ so
// `rm -rf .local` is a full reset.
//
// Three stacks, each Kafka nodes plus the Apicurio registry that keeps its
// schemas in them: `plain` (one node, the default for npm start and the test
// suite), `secure` (one node with TLS, SCRAM users and ACLs) and `cluster`
// (three nodes, each broker and KRaft controller, replication 3 and min ISR 2
// as on MSK). They use different ports and directories, so they run side by side.
// A test may make one more on free ports (testStack), without a registry.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const localDir = path.resolve(process.env.LOCAL_DIR ?? path.join(repoRoot, '.local'));

/** The newest Apache Kafka the registry and the secure stack were checked against. */
export const DEFAULT_KAFKA_VERSION = '4.4.0';
/** The older line kept as a tested compatibility target (npm run test:compat). */
export const COMPAT_KAFKA_VERSION = '3.9.1';
/** KAFKA_VERSION runs another release (its own data directories: a newer release's data cannot go back). */
export const KAFKA_VERSION = process.env.KAFKA_VERSION?.trim() || DEFAULT_KAFKA_VERSION;
// 3.3.x needs Java 21 (class file 65); 3.0.9 is the newest release that runs on Java 17.
export const APICURIO_VERSION = '3.0.9';

/** Kafka 4 logs through log4j2; 3.x through log4j 1 (reload4j). */
export const kafkaUsesLog4j2 = (version: string) => Number(version.split('.')[0]) >= 4;

export const layout = {
  logs: path.join(localDir, 'logs'),
  run: path.join(localDir, 'run'),
  kafkaLibs: path.join(localDir, 'artifacts', `kafka-${KAFKA_VERSION}`),
  apicurioHome: path.join(localDir, 'artifacts', `apicurio-registry-${APICURIO_VERSION}`),
  mavenPom: path.join(repoRoot, 'scripts', 'embedded', 'kafka.pom.xml'),
} as const;

export type StackMode = 'plain' | 'secure' | 'cluster';
/**
 * Stacks a test makes for itself on ports it picked (testStack): 'oauthbearer'
 * is one node whose client listener takes SASL/OAUTHBEARER over TLS, checked by
 * Kafka's unsecured JWT validator, as MSK's IAM listener takes signed tokens.
 */
export type TestStackMode = 'oauthbearer';
export type ProcessName = string;

/** One Kafka node: broker and KRaft controller in one process. */
export interface KafkaNode {
  id: number;
  process: ProcessName;
  ports: { kafka: number; controller: number; internal?: number };
  dir: string;
  data: string;
  config: string;
  logConfig: string;
}

/** One embedded stack: its Kafka nodes and the registry that keeps its schemas in them. */
export interface Stack {
  mode: StackMode | TestStackMode;
  /** The stack's own directory (PKI and credentials in secure mode), per Kafka version. */
  dir: string;
  nodes: KafkaNode[];
  registry: ProcessName;
  registryPorts: { http: number; management: number };
  /** Bootstrap servers, comma-separated. */
  brokers: string;
  registryUrl: string;
  /** Replication of internal topics (offsets, transactions, the registry's) and their min ISR. */
  replication: { factor: number; minInsync: number };
  /** Each node's heap, -Xmx. */
  heap: string;
  /** Broker settings over the stack's own (a test's re-authentication interval, say). */
  serverOverrides?: Record<string, string | number | boolean>;
}

function stack(mode: Stack['mode'], dirName: string, spec: { kafka: number[]; controller: number[]; internal?: number[]; registry: number; management: number; heap: string }): Stack {
  const dir = path.join(localDir, `${dirName}-${KAFKA_VERSION}`);
  const single = spec.kafka.length === 1;
  const nodes = spec.kafka.map((kafka, i): KafkaNode => {
    const id = i + 1;
    const nodeDir = single ? dir : path.join(dir, `node-${id}`);
    return {
      id,
      process: single ? (mode === 'plain' ? 'kafka' : `kafka-${mode}`) : `kafka-${mode}-${id}`,
      ports: { kafka, controller: spec.controller[i]!, ...(spec.internal ? { internal: spec.internal[i]! } : {}) },
      dir: nodeDir,
      data: path.join(nodeDir, 'data'),
      config: path.join(nodeDir, 'server.properties'),
      logConfig: path.join(nodeDir, kafkaUsesLog4j2(KAFKA_VERSION) ? 'log4j2.yaml' : 'log4j.properties'),
    };
  });
  return {
    mode,
    dir,
    nodes,
    registry: mode === 'plain' ? 'registry' : `registry-${mode}`,
    registryPorts: { http: spec.registry, management: spec.management },
    brokers: spec.kafka.map((p) => `127.0.0.1:${p}`).join(','),
    registryUrl: `http://127.0.0.1:${spec.registry}/apis/ccompat/v7`,
    replication: single ? { factor: 1, minInsync: 1 } : { factor: 3, minInsync: 2 },
    heap: spec.heap,
  };
}

export const stacks: Record<StackMode, Stack> = {
  // Quarkus' management interface defaults to 9000, which half the tools on a
  // developer machine also want.
  plain: stack('plain', 'kafka', { kafka: [9092], controller: [9093], registry: 8081, management: 8091, heap: '768m' }),
  secure: stack('secure', 'kafka-secure', { kafka: [9192], controller: [9193], internal: [9194], registry: 8082, management: 8092, heap: '768m' }),
  // Three JVMs of 512 MiB beside the services and the registry: about 2.5 GiB in all.
  cluster: stack('cluster', 'kafka-cluster', { kafka: [9292, 9293, 9294], controller: [9295, 9296, 9297], registry: 8083, management: 8093, heap: '512m' }),
};

export const embeddedBrokers = stacks.plain.brokers;
export const embeddedRegistryUrl = stacks.plain.registryUrl;

/**
 * A one-node stack of a test mode on ports the test chose (free ones, so it runs
 * beside the default stacks), under .local/kafka-<mode>-<version>. It has no
 * registry: its registry fields name nothing that runs.
 */
export function testStack(mode: TestStackMode, ports: { kafka: number; controller: number; internal: number }, serverOverrides: Stack['serverOverrides'] = {}): Stack {
  const spec = { kafka: [ports.kafka], controller: [ports.controller], internal: [ports.internal], registry: 0, management: 0, heap: '512m' };
  return { ...stack(mode, `kafka-${mode}`, spec), serverOverrides };
}
