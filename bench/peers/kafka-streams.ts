// The Kafka Streams peer of the reservations benchmark (bench/peers/README.md):
// builds bench/peers/kafka-streams/ with Maven when its jar is missing or older
// than its sources, resolves the schema ids it reads and writes, and runs it as
// a child JVM that says on stdout when it is RUNNING and what it did on stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { KafkaSecurity } from '../../services/platform/config.ts';
import { subjectName, topicSchemas } from '../../services/platform/schemas/catalog.ts';
import { registerRecord } from '../../services/platform/schemas/register.ts';
import type { TopicDescriptor } from '../../services/platform/topics.ts';

const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'kafka-streams');
const JAR = path.join(PROJECT_DIR, 'target', 'reservation-peer.jar');
/** What the peer is built on, as its pom.xml says. */
export const KAFKA_STREAMS_VERSION = /<kafka\.version>([^<]+)</.exec(fs.readFileSync(path.join(PROJECT_DIR, 'pom.xml'), 'utf8'))?.[1] ?? 'unknown';

/** Streams' commit.interval.ms under exactly_once_v2 when it is not set. */
export const STREAMS_EOS_DEFAULT_COMMIT_MS = 100;

/**
 * The settings the peer is measured with besides exactly_once_v2, which the
 * peer sets itself; everything else is Streams' default. Why each: see
 * bench/peers/README.md.
 */
export const PEER_SETTINGS: Record<string, number> = {
  // Our processor makes a chunk visible as soon as it is decided, with no
  // timer: a commit every ~30 ms under the backlog, more often under light
  // load. 20 ms keeps Streams' outputs about as prompt; 100 (its EOS default)
  // is measured beside it. 0 is no good: Streams then commits after every
  // processing round, a few records per transaction.
  'commit.interval.ms': 20,
  // The default, written down: one thread for six tasks, as our processor is one Node thread for six partitions.
  'num.stream.threads': 1,
};

/** The peer's bounded heap: the broker's JVM and the bench share the machine. */
export const PEER_HEAP_MB = 512;

/** The records the peer writes: a new variant's record, the reservation outcomes, and the answers to commands that change nothing. */
const OUTCOME_RECORDS = ['InventoryRecordInitialized', 'StockReserved', 'ReservationRejected', 'CommandRejected', 'CommandUnchanged'];

export interface PeerSchema {
  id: number;
  file: string;
}

export interface PeerStats {
  commands: number;
  outcomes: number;
  skipped: number;
  /** Transactions committed (Streams' commit-total over its stream threads). */
  commits: number;
}

export interface PeerOptions {
  brokers: string[];
  security: KafkaSecurity;
  /** Also the consumer group and the prefix of its changelog topics and transactional ids. */
  applicationId: string;
  input: string;
  output: string;
  /** RocksDB's directory; kept between runs of one application id, so a restart need not restore. */
  stateDir: string;
  schemas: PeerSchema[];
  /** Kafka Streams settings applied over the peer's own (exactly_once_v2). */
  settings: Record<string, string | number>;
  heapMb?: number;
}

export interface Peer {
  readonly pid: number | undefined;
  /** Throws if the JVM has exited or Kafka Streams has failed. */
  assertRunning(): void;
  /** SIGTERM (Streams closes and commits), SIGKILL after the grace period; the counters if it closed cleanly. */
  stop(graceMs?: number): Promise<PeerStats | undefined>;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function requireTool(command: string, args: string[], what: string): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`the Kafka Streams peer needs ${what} ('${command}' on PATH), which is missing or broken: ${r.error?.message ?? `exit ${r.status}`}`);
  return `${r.stdout}${r.stderr}`;
}

/** The runnable jar, built first when it is missing or older than pom.xml or anything under src/. */
export function ensurePeerJar(): string {
  const javaVersion = /version "(\d+)/.exec(requireTool('java', ['-version'], 'Java 17 or later'))?.[1];
  if (!javaVersion || Number(javaVersion) < 17) throw new Error(`the Kafka Streams peer needs Java 17 or later; 'java' is version ${javaVersion ?? 'unknown'}`);
  const built = fs.statSync(JAR, { throwIfNoEntry: false })?.mtimeMs;
  const sources = Math.max(fs.statSync(path.join(PROJECT_DIR, 'pom.xml')).mtimeMs, newestSource(path.join(PROJECT_DIR, 'src')));
  if (built !== undefined && built >= sources) return JAR;
  requireTool('mvn', ['-v'], 'Maven');
  console.log('[peer] building the Kafka Streams peer with Maven');
  const r = spawnSync('mvn', ['-q', '-B', '-f', path.join(PROJECT_DIR, 'pom.xml'), 'clean', 'package', '-DskipTests'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0 || !fs.existsSync(JAR)) {
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`Maven could not build the Kafka Streams peer in ${PROJECT_DIR}:\n${output}`);
  }
  return JAR;
}

/**
 * Schema ids for the peer: those of every command record on the commands
 * topic (registered by the namespace's preparation), and those of the records
 * it writes, registered now under its output topic's subjects
 * (TopicRecordNameStrategy, as for every topic of ours).
 */
export async function peerSchemas(registry: SchemaRegistry, registryUrl: string, commands: TopicDescriptor, output: string): Promise<PeerSchema[]> {
  const schemas: PeerSchema[] = [];
  for (const record of topicSchemas(commands.baseName).records) {
    const id = await registry.getRegistryIdBySchema(subjectName(commands.name, record), { type: SchemaType.AVRO, schema: JSON.stringify(record.schema) });
    schemas.push({ id, file: record.file });
  }
  const events = topicSchemas('inventory.events').records;
  for (const name of OUTCOME_RECORDS) {
    const record = events.find((r) => r.name === name);
    if (!record) throw new Error(`schemas/inventory.events carries no ${name}`);
    const { id } = await registerRecord(registry, registryUrl, subjectName(output, record), record);
    schemas.push({ id, file: record.file });
  }
  return schemas;
}

/** Client properties for TLS and SASL, written to a file so that no password shows in `ps`. */
function clientConfigFile(security: KafkaSecurity, dir: string): string | undefined {
  if (!security.ssl && !security.sasl) return undefined;
  const lines = [`security.protocol=${security.sasl ? (security.ssl ? 'SASL_SSL' : 'SASL_PLAINTEXT') : 'SSL'}`];
  if (security.ssl?.caFile) lines.push('ssl.truststore.type=PEM', `ssl.truststore.location=${security.ssl.caFile}`);
  // Java clients have no setting that trusts any certificate, as kafkajs can be told to.
  if (security.ssl && !security.ssl.rejectUnauthorized) throw new Error('the Kafka Streams peer always verifies the broker certificate: unset KAFKA_SSL_REJECT_UNAUTHORIZED=false');
  if (security.sasl?.mechanism === 'aws-msk-iam') throw new Error('the Kafka Streams peer has no MSK IAM login (it would need aws-msk-iam-auth on its classpath): use SCRAM for the peer');
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    const quoted = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    const module = mechanism === 'plain' ? 'org.apache.kafka.common.security.plain.PlainLoginModule' : 'org.apache.kafka.common.security.scram.ScramLoginModule';
    lines.push(`sasl.mechanism=${mechanism.toUpperCase()}`, `sasl.jaas.config=${module} required username=${quoted(username)} password=${quoted(password)};`);
  }
  const file = path.join(dir, 'client.properties');
  // Properties files treat backslashes as escapes.
  fs.writeFileSync(file, `${lines.map((l) => l.replace(/\\/g, '\\\\')).join('\n')}\n`, { mode: 0o600 });
  return file;
}

/** Starts the peer and resolves once Kafka Streams reports RUNNING. */
export async function startKafkaStreamsPeer(options: PeerOptions): Promise<Peer> {
  const jar = ensurePeerJar();
  fs.mkdirSync(options.stateDir, { recursive: true });
  const clientConfig = clientConfigFile(options.security, options.stateDir);
  const args = [
    `-Xmx${options.heapMb ?? PEER_HEAP_MB}m`,
    '-XX:+ExitOnOutOfMemoryError',
    // Extra JVM options for a look inside (a flight recording, say); not for measured runs.
    ...(process.env.BENCH_PEER_JAVA_OPTS ?? '').split(/\s+/).filter(Boolean),
    '-jar',
    jar,
    `--bootstrap=${options.brokers.join(',')}`,
    `--application-id=${options.applicationId}`,
    `--input=${options.input}`,
    `--output=${options.output}`,
    // Streams keeps one directory per application id under it.
    `--state-dir=${options.stateDir}`,
    ...(clientConfig ? [`--client-config=${clientConfig}`] : []),
    ...options.schemas.map((s) => `--schema=${s.id}:${s.file}`),
    ...Object.entries(options.settings).map(([k, v]) => `--streams.${k}=${v}`),
  ];
  const child: ChildProcess = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Never outlive the bench, whatever way it ends.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const stderr: string[] = [];
  let state = 'CREATED';
  let stats: PeerStats | undefined;
  let exitCode: number | null | undefined;
  let signal: NodeJS.Signals | null = null;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, sig) => {
      exitCode = code;
      signal = sig;
      process.off('exit', killOnExit);
      resolve();
    });
  });
  child.on('error', (error) => stderr.push(String(error)));
  // BENCH_PEER_ECHO=1 shows everything the peer says, for a look inside; otherwise only a failure shows its last words.
  const echo = process.env.BENCH_PEER_ECHO === '1' ? (line: string) => console.log(`[peer ${options.applicationId}] ${line}`) : () => {};
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    echo(line);
    stderr.push(line);
    if (stderr.length > 40) stderr.shift();
  });
  const running = new Promise<void>((resolve) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      echo(line);
      if (line.startsWith('STATE ')) {
        state = line.slice(6).trim();
        if (state === 'RUNNING') resolve();
      } else if (line.startsWith('STATS ')) {
        stats = JSON.parse(line.slice(6)) as PeerStats;
      }
    });
  });
  const failure = () =>
    `Kafka Streams peer ${options.applicationId} ${exitCode !== undefined ? `exited (${signal ?? `code ${exitCode}`})` : `is ${state}`}${stderr.length ? `:\n${stderr.slice(-15).join('\n')}` : ''}`;

  const peer: Peer = {
    get pid() {
      return child.pid;
    },
    assertRunning() {
      if (exitCode !== undefined || state === 'ERROR' || state === 'PENDING_ERROR' || state === 'NOT_RUNNING') throw new Error(failure());
    },
    async stop(graceMs = 45_000) {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return stats;
    },
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Kafka Streams peer ${options.applicationId} not RUNNING after 120 s (${state})`)), 120_000);
  });
  try {
    await Promise.race([running, timeout, exited.then(() => Promise.reject(new Error(failure())))]);
  } catch (error) {
    await peer.stop(5_000);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return peer;
}
