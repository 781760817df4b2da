// docker-compose.kafka.yml cannot be run here (no Docker engine), so this test
// keeps it honest against topology/ and the embedded stacks: the same Kafka release
// and registry, the MSK profile's replication settings, no automatic topic
// creation, and enough brokers for the replication factor.
import fs from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { APICURIO_VERSION, DEFAULT_KAFKA_VERSION } from '../../scripts/embedded/layout.ts';
import { readAccessFile } from '../../services/platform/topology/access.ts';
import { readTopologyFile } from '../../services/platform/topology/declaration.ts';

interface ComposeService {
  image: string;
  entrypoint?: string[];
  ports?: string[];
  environment?: Record<string, string>;
}

const compose = parse(fs.readFileSync('docker-compose.kafka.yml', 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const msk = readTopologyFile().profiles.msk!;
// Brokers are the apache/kafka services with a node id (the others are one-shot setup jobs).
const brokers = Object.entries(compose.services).filter(([, s]) => s.image.startsWith('apache/kafka:') && s.environment?.KAFKA_NODE_ID);
const registry = Object.values(compose.services).find((s) => s.image.startsWith('apicurio/apicurio-registry:'));
const setup = fs.readFileSync('ops/compose/kafka-setup.sh', 'utf8');

describe('docker-compose.kafka.yml', () => {
  it('runs the Apache Kafka release the embedded stacks run, one node per replica', () => {
    expect(brokers.length).to.be.at.least(msk.replicationFactor);
    for (const s of Object.values(compose.services).filter((s) => s.image.startsWith('apache/kafka:'))) expect(s.image).to.equal(`apache/kafka:${DEFAULT_KAFKA_VERSION}`);
  });

  it('replicates like the cluster the fault suite runs (the cluster profile is the msk one)', () => {
    expect(readTopologyFile().profiles.cluster).to.deep.equal(msk);
  });

  it('matches the msk profile of topology/ on every broker', () => {
    for (const [name, b] of brokers) {
      const env = b.environment ?? {};
      expect(env.KAFKA_DEFAULT_REPLICATION_FACTOR, name).to.equal(String(msk.replicationFactor));
      expect(env.KAFKA_MIN_INSYNC_REPLICAS, name).to.equal(String(msk.minInsyncReplicas));
      expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, name).to.equal(String(msk.replicationFactor));
      expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR, name).to.equal(String(msk.replicationFactor));
      expect(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR, name).to.equal(String(msk.minInsyncReplicas));
      expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE, name).to.equal('false');
      expect(env.KAFKA_PROCESS_ROLES, name).to.equal('broker,controller');
    }
  });

  it('gives every node a distinct id and host port, all in the quorum', () => {
    const ids = brokers.map(([, b]) => b.environment?.KAFKA_NODE_ID);
    expect(new Set(ids).size).to.equal(brokers.length);
    const voters = brokers[0]![1].environment?.KAFKA_CONTROLLER_QUORUM_VOTERS ?? '';
    for (const id of ids) expect(voters).to.contain(`${id}@`);
    const ports = brokers.flatMap(([, b]) => b.ports ?? []);
    expect(new Set(ports).size).to.equal(brokers.length);
  });

  it('has the Apicurio registry the tests run, its topics made beforehand and replicated like the rest', () => {
    expect(registry, 'schema registry service').to.not.equal(undefined);
    expect(registry!.image).to.equal(`apicurio/apicurio-registry:${APICURIO_VERSION}`);
    const env = registry!.environment ?? {};
    expect(env.APICURIO_STORAGE_KIND).to.equal('kafkasql');
    expect(env.APICURIO_KAFKASQL_TOPIC_AUTO_CREATE).to.equal('false');
    expect(env.APICURIO_CCOMPAT_USE_CANONICAL_HASH).to.equal('true');
    expect(env.APICURIO_KAFKASQL_CONSUMER_GROUP_PREFIX).to.equal(readAccessFile().registry.groupPrefix);
    expect(registry!.ports).to.deep.equal(['18081:8080']);
    for (const topic of Object.keys(readTopologyFile().registry ?? {})) {
      expect(setup, topic).to.match(new RegExp(`--create --if-not-exists --topic ${topic} [^\\n]*--replication-factor ${msk.replicationFactor}`));
    }
    expect(setup).to.contain(`--config min.insync.replicas=${msk.minInsyncReplicas}`);
  });

  it('gives the registry principal the ACLs topology/access.yaml gives it', () => {
    const { reads, writes, groupPrefix } = readAccessFile().registry;
    for (const topic of reads) expect(setup, `read ${topic}`).to.match(new RegExp(`--operation Read[^\\n]*--topic (${topic}|"\\$topic")`));
    for (const topic of writes) expect(setup, `write ${topic}`).to.match(new RegExp(`--operation Write[^\\n]*--topic (${topic}|"\\$topic")`));
    for (const topic of reads) expect(setup).to.match(new RegExp(`for topic in [^\\n]*${topic}`));
    expect(setup).to.contain(`--resource-pattern-type prefixed --group ${groupPrefix}`);
  });

  it('is secured as MSK offers it: SCRAM over TLS for clients, mutual TLS inside, deny by default', () => {
    for (const [name, b] of brokers) {
      const env = b.environment ?? {};
      const protocols = Object.fromEntries(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP!.split(',').map((p) => p.split(':')));
      expect(Object.values(protocols), name).to.not.include('PLAINTEXT');
      for (const listener of env.KAFKA_LISTENERS!.split(',').map((l) => l.split(':')[0]!)) expect(protocols[listener], `${name} ${listener}`).to.match(/SSL$/);
      expect(env.KAFKA_SASL_ENABLED_MECHANISMS, name).to.equal('SCRAM-SHA-512');
      expect(env.KAFKA_LISTENER_NAME_INTERNAL_SSL_CLIENT_AUTH, name).to.equal('required');
      expect(env.KAFKA_LISTENER_NAME_CONTROLLER_SSL_CLIENT_AUTH, name).to.equal('required');
      expect(env.KAFKA_AUTHORIZER_CLASS_NAME, name).to.equal('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
      expect(env.KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND, name).to.equal('false');
    }
    expect(registry!.environment?.APICURIO_KAFKA_COMMON_SECURITY_PROTOCOL).to.equal('SASL_SSL');
    expect(registry!.environment?.APICURIO_KAFKA_COMMON_SASL_MECHANISM).to.equal('SCRAM-SHA-512');
    expect(registry!.environment?.APICURIO_KAFKA_COMMON_SASL_JAAS_CONFIG).to.contain('username="registry"');
  });

  it('makes a SCRAM user for the admin, the registry and every service topology/access.yaml names', () => {
    for (const principal of ['admin', 'registry', ...Object.keys(readAccessFile().services)]) {
      expect(setup, principal).to.match(new RegExp(`"${principal}:\\$${principal.toUpperCase()}_PASSWORD"`));
    }
  });
});
