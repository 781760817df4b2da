// Where the embedded broker and registry keep their artifacts, data, logs and
// pid files. Everything lives under .local/ so `rm -rf .local` is a full reset.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const localDir = path.resolve(process.env.LOCAL_DIR ?? path.join(repoRoot, '.local'));

export const KAFKA_VERSION = '3.9.1';
// 3.3.x needs Java 21 (class file 65); 3.0.9 is the newest release that runs on Java 17.
export const APICURIO_VERSION = '3.0.9';

export const layout = {
  logs: path.join(localDir, 'logs'),
  run: path.join(localDir, 'run'),
  kafkaLibs: path.join(localDir, 'artifacts', `kafka-${KAFKA_VERSION}`),
  apicurioHome: path.join(localDir, 'artifacts', `apicurio-registry-${APICURIO_VERSION}`),
  mavenPom: path.join(repoRoot, 'scripts', 'embedded', 'kafka.pom.xml'),
} as const;

export type StackMode = 'plain' | 'secure';
export type ProcessName = 'kafka' | 'registry' | 'kafka-secure' | 'registry-secure';

/** One embedded stack: a broker and the registry that keeps its schemas in it. */
export interface Stack {
  mode: StackMode;
  kafka: ProcessName;
  registry: ProcessName;
  ports: { kafka: number; kafkaController: number; kafkaInternal?: number; registry: number; registryManagement: number };
  kafkaDir: string;
  kafkaData: string;
  kafkaConfig: string;
  kafkaLog4j: string;
  brokers: string;
  registryUrl: string;
}

function stack(mode: StackMode, dirName: string, ports: Stack['ports']): Stack {
  const kafkaDir = path.join(localDir, dirName);
  return {
    mode,
    kafka: mode === 'plain' ? 'kafka' : 'kafka-secure',
    registry: mode === 'plain' ? 'registry' : 'registry-secure',
    ports,
    kafkaDir,
    kafkaData: path.join(kafkaDir, 'data'),
    kafkaConfig: path.join(kafkaDir, 'server.properties'),
    kafkaLog4j: path.join(kafkaDir, 'log4j.properties'),
    brokers: `127.0.0.1:${ports.kafka}`,
    registryUrl: `http://127.0.0.1:${ports.registry}/apis/ccompat/v7`,
  };
}

export const stacks: Record<StackMode, Stack> = {
  // Quarkus' management interface defaults to 9000, which half the tools on a
  // developer machine also want.
  plain: stack('plain', 'kafka', { kafka: 9092, kafkaController: 9093, registry: 8081, registryManagement: 8091 }),
  // Secure mode runs beside the plain one (its own ports and data), so a
  // developer and the test suite can use both.
  secure: stack('secure', 'kafka-secure', { kafka: 9192, kafkaController: 9193, kafkaInternal: 9194, registry: 8082, registryManagement: 8092 }),
};

export const ports = stacks.plain.ports;
export const embeddedBrokers = stacks.plain.brokers;
export const embeddedRegistryUrl = stacks.plain.registryUrl;
