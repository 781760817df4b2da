// Fetches the broker's jars and the registry's distribution from Maven Central
// through Maven, once: a `.complete` marker makes later starts skip the work
// (Maven's own ~/.m2 cache makes even a fresh .local cheap).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { APICURIO_VERSION, KAFKA_VERSION, kafkaUsesLog4j2, layout } from './layout.ts';
import { EmbeddedError, requireTool } from './processes.ts';

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
// Apicurio 3.0.9's parent POM (io.apicurio:apicurio-registry:3.0.9) is not on
// Maven Central. dependency-plugin 3.x reads an artifact's descriptor before
// copying it and fails on the missing parent; 2.10 copies the artifact alone.
const DESCRIPTORLESS_COPY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:2.10';

function mvn(args: string[], what: string): void {
  requireTool('mvn', ['-v'], 'Maven');
  const res = spawnSync('mvn', ['-B', '-q', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) {
    const output = `${res.stdout}${res.stderr}`.trim().split('\n').slice(-20).join('\n');
    throw new EmbeddedError(`Maven could not fetch ${what}:\n${output}`);
  }
}

function isComplete(dir: string): boolean {
  return fs.existsSync(path.join(dir, '.complete'));
}

function markComplete(dir: string): void {
  fs.writeFileSync(path.join(dir, '.complete'), `${new Date().toISOString()}\n`);
}

/** Directory holding every jar the broker needs on its classpath. */
export function ensureKafkaJars(log: (line: string) => void): string {
  const dir = layout.kafkaLibs;
  // An install made before the tools were added to the POM is fetched again.
  if (isComplete(dir) && fs.readdirSync(dir).some((f) => /^kafka-tools-\d/.test(f))) return dir;
  log(`fetching Apache Kafka ${KAFKA_VERSION} from Maven Central...`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  mvn(
    [
      '-f',
      layout.mavenPom,
      `-Dkafka.version=${KAFKA_VERSION}`,
      `-P${kafkaUsesLog4j2(KAFKA_VERSION) ? 'log4j2' : 'reload4j'}`,
      `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      `-DoutputDirectory=${dir}`,
      '-DincludeScope=runtime',
    ],
    `org.apache.kafka:kafka_2.13:${KAFKA_VERSION}`,
  );
  markComplete(dir);
  return dir;
}

/** Path of the jar that starts Apicurio Registry. */
export function ensureApicurio(log: (line: string) => void): string {
  const dir = layout.apicurioHome;
  if (!isComplete(dir)) {
    log(`fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central...`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const download = path.join(dir, 'download');
    mvn(
      [`${DESCRIPTORLESS_COPY_PLUGIN}:copy`, `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`, `-DoutputDirectory=${download}`],
      `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}`,
    );
    // Maven's own unpacker truncates the archive's long PAX file names; tar does not.
    const archive = path.join(download, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
    const tar = spawnSync('tar', ['-xzf', archive, '-C', dir], { encoding: 'utf8' });
    if (tar.status !== 0) throw new EmbeddedError(`could not unpack ${archive}: ${tar.stderr.trim()}`);
    fs.rmSync(download, { recursive: true, force: true });
    markComplete(dir);
  }
  return launcherJar(dir);
}

// The distribution's layout changed between releases: 3.0.x ships
// `apicurio-registry-app-<v>-runner.jar`, 3.1+ a Quarkus fast-jar `quarkus-run.jar`.
function launcherJar(dir: string): string {
  const candidates = ['quarkus-run.jar', `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`];
  for (const name of candidates) {
    const jar = path.join(dir, name);
    if (fs.existsSync(jar)) return jar;
  }
  throw new EmbeddedError(`no launcher jar (${candidates.join(' or ')}) in ${dir}; remove it and run again`);
}
