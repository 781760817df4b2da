// docker-compose.kafka.yml cannot be run here (no Docker engine), so this test
// keeps it honest against topology/: the MSK profile's replication settings, no
// automatic topic creation, and enough brokers for the replication factor.
import fs from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { readTopologyFile } from '../../services/platform/topology/declaration.ts';

interface ComposeService {
  image: string;
  ports?: string[];
  environment?: Record<string, string>;
}

const compose = parse(fs.readFileSync('docker-compose.kafka.yml', 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const msk = readTopologyFile().profiles.msk!;
const brokers = Object.entries(compose.services).filter(([, s]) => s.image.startsWith('apache/kafka:'));
const registry = Object.values(compose.services).find((s) => s.image.startsWith('confluentinc/cp-schema-registry'));

describe('docker-compose.kafka.yml', () => {
  it('runs Apache Kafka 3.9 like the embedded default, one node per replica', () => {
    expect(brokers.length).to.be.at.least(msk.replicationFactor);
    for (const [, b] of brokers) expect(b.image).to.match(/^apache\/kafka:3\.9\./);
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

  it('has a Confluent schema registry replicating its schemas like the topics', () => {
    expect(registry, 'schema registry service').to.not.equal(undefined);
    expect(registry!.environment?.SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR).to.equal(String(msk.replicationFactor));
    expect(registry!.ports).to.deep.equal(['18081:8081']);
  });
});
