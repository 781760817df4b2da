import { expect } from 'chai';
import { readTopologyFile, resolveTopology, TopologyError, type TopicDeclaration } from '../../services/platform/topology/declaration.ts';
import { planTopology, type ExistingTopic } from '../../services/platform/topology/plan.ts';

const declared = resolveTopology(readTopologyFile(), { profile: 'local', prefix: 'p.' });
const byName = (name: string) => declared.find((d) => d.name === name)!;

function existingFrom(decls: TopicDeclaration[], patch: Record<string, Partial<ExistingTopic>> = {}): Map<string, ExistingTopic> {
  return new Map(decls.map((d) => [d.name, { partitions: d.partitions, replicationFactor: d.replicationFactor, configs: { ...d.configs }, ...patch[d.name] }]));
}

describe('topology declaration', () => {
  it('declares every topic of the contract with a dead-letter topic, event topics kept forever', () => {
    const names = declared.map((d) => d.baseName);
    for (const t of ['product.commands', 'product.events', 'inventory.commands', 'inventory.events', 'order.commands', 'order.events']) {
      expect(names).to.include(t);
      expect(names).to.include(`${t}.dlq`);
    }
    for (const d of declared.filter((x) => x.baseName.endsWith('.events'))) {
      expect(d.configs['retention.ms'], d.name).to.equal('-1');
      expect(d.configs['retention.bytes'], d.name).to.equal('-1');
    }
    expect(byName('p.inventory.commands').configs['retention.ms']).to.equal('604800000');
  });

  it('keeps inventory commands and events co-partitioned', () => {
    expect(byName('p.inventory.commands').partitions).to.equal(byName('p.inventory.events').partitions);
  });

  it('applies the msk and cluster profiles: replication 3, min ISR 2', () => {
    for (const profile of ['msk', 'cluster'] as const) {
      const declared = resolveTopology(readTopologyFile(), { profile, prefix: '' });
      expect(
        declared.every((d) => d.replicationFactor === 3 && d.configs['min.insync.replicas'] === '2'),
        profile,
      ).to.equal(true);
    }
  });

  it('rejects a declaration that splits a co-partitioned group', () => {
    const file = readTopologyFile();
    file.topics['inventory.events']!.partitions = 12;
    expect(() => resolveTopology(file, { profile: 'local', prefix: '' })).to.throw(TopologyError, /co-partitioned group 'inventory' must have one partition count/);
  });

  it("never prefixes the registry's topics", () => {
    const registry = resolveTopology(readTopologyFile(), { profile: 'local', prefix: 'p.', section: 'registry' });
    expect(registry.map((d) => d.name)).to.deep.equal(['kafkasql-journal', 'kafkasql-snapshots', 'registry-events']);
    expect(registry[0]!.configs['retention.ms']).to.equal('-1');
  });
});

describe('topology plan', () => {
  it('creates what is missing', () => {
    const plan = planTopology(declared, new Map());
    expect(plan.actions.every((a) => a.kind === 'create')).to.equal(true);
    expect(plan.actions).to.have.length(declared.length);
    expect(plan.refusals).to.deep.equal([]);
  });

  it('changes nothing when everything matches', () => {
    const plan = planTopology(declared, existingFrom(declared));
    expect(plan.actions).to.deep.equal([]);
    expect(plan.unchanged).to.have.length(declared.length);
  });

  it('corrects a drifted config, naming old and new values', () => {
    const plan = planTopology(
      declared,
      existingFrom(declared, { 'p.order.events': { configs: { 'retention.ms': '604800000', 'retention.bytes': '-1', 'cleanup.policy': 'delete', 'min.insync.replicas': '1' } } }),
    );
    expect(plan.actions).to.deep.equal([{ kind: 'alter-configs', topic: byName('p.order.events'), changes: [{ key: 'retention.ms', from: '604800000', to: '-1' }] }]);
  });

  it('refuses a partition decrease', () => {
    const plan = planTopology(declared, existingFrom(declared, { 'p.order.events': { partitions: 12 } }));
    expect(plan.refusals).to.deep.equal(['p.order.events: has 12 partitions, declared 3; Kafka cannot remove partitions']);
  });

  it('refuses to grow a keyed topic, which would move keys away from their history', () => {
    const grown = declared.map((d) => (d.baseName === 'order.events' ? { ...d, partitions: 6 } : d));
    const plan = planTopology(grown, existingFrom(declared));
    expect(plan.refusals[0]).to.match(/^p\.order\.events: has 3 partitions, declared 6; adding partitions to a keyed topic/);
  });

  it('grows a co-partitioned group only together, and only when allowed', () => {
    const both = declared.map((d) => (d.coPartitionGroup ? { ...d, partitions: 12 } : d));
    const allowed = planTopology(both, existingFrom(declared), { allowRepartition: true });
    expect(allowed.refusals).to.deep.equal([]);
    expect(allowed.actions.filter((a) => a.kind === 'add-partitions').map((a) => a.topic.baseName)).to.deep.equal(['inventory.commands', 'inventory.events']);

    // Only one member grows (the other already has more and is not declared to change).
    const one = both.map((d) => (d.baseName === 'inventory.events' ? { ...d, partitions: 6 } : d));
    const split = planTopology(one, existingFrom(declared), { allowRepartition: true });
    expect(split.refusals.some((r) => r.includes("co-partitioned group 'inventory' would be split"))).to.equal(true);
  });

  it('refuses a replication change it cannot make', () => {
    const plan = planTopology(declared, existingFrom(declared, { 'p.product.events': { replicationFactor: 3 } }));
    expect(plan.refusals[0]).to.match(/^p\.product\.events: replication factor is 3, declared 1/);
  });
});
