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
  kafkaData: path.join(localDir, 'kafka', 'data'),
  kafkaConfig: path.join(localDir, 'kafka', 'server.properties'),
  kafkaLog4j: path.join(localDir, 'kafka', 'log4j.properties'),
  mavenPom: path.join(repoRoot, 'scripts', 'embedded', 'kafka.pom.xml'),
} as const;

export const ports = {
  kafka: 9092,
  kafkaController: 9093,
  registry: 8081,
  // Quarkus' management interface defaults to 9000, which half the tools on a
  // developer machine also want.
  registryManagement: 8091,
} as const;

export const embeddedBrokers = `127.0.0.1:${ports.kafka}`;
export const embeddedRegistryUrl = `http://127.0.0.1:${ports.registry}/apis/ccompat/v7`;
