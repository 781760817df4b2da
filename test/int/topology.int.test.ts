import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import type { Admin } from 'kafkajs';
import { describeExisting, applyTopology } from '../../services/platform/topology/apply.ts';
import { readTopologyFile, resolveTopology } from '../../services/platform/topology/declaration.ts';
import { adminFor, configFor, uniquePrefix } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';

function runTopologyCli(prefix: string, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/topology.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TOPIC_PREFIX: prefix },
  });
}

describe('npm run topology (real broker)', function () {
  this.timeout(120_000);
  let admin: Admin;
  const prefix = uniquePrefix('topology');
  const declared = resolveTopology(readTopologyFile(), { profile: 'local', prefix });

  before(async () => {
    admin = await adminFor(configFor(prefix));
  });
  after(() => admin.disconnect());

  it('creates every topic as declared, then changes nothing when applied again', async () => {
    const dry = runTopologyCli(prefix, '--dry-run');
    expect(dry.status, dry.stderr).to.equal(0);
    expect(dry.stdout).to.contain(`would create ${prefix}inventory.events: 6 partitions`);
    expect((await admin.listTopics()).filter((t) => t.startsWith(prefix))).to.deep.equal([]);

    const first = runTopologyCli(prefix);
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stdout).to.contain(`changed ${declared.length}, unchanged 0`);

    const existing = await describeExisting(
      admin,
      declared.map((d) => d.name),
    );
    for (const d of declared) {
      const actual = existing.get(d.name);
      expect(actual?.partitions, d.name).to.equal(d.partitions);
      for (const [key, value] of Object.entries(d.configs)) expect(actual?.configs[key], `${d.name} ${key}`).to.equal(value);
    }

    const second = runTopologyCli(prefix);
    expect(second.status, second.stderr).to.equal(0);
    expect(second.stdout.trim()).to.equal(`topology (local, prefix '${prefix}'): changed 0, unchanged ${declared.length}`);
  });

  it('puts a drifted config back', async () => {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: `${prefix}order.events`, configEntries: [{ name: 'retention.ms', value: '1000' }] }],
    });
    const { plan } = await applyTopology(admin, declared);
    expect(plan.actions.map((a) => a.kind === 'alter-configs' && a.changes)).to.deep.equal([[{ key: 'retention.ms', from: '1000', to: '-1' }]]);
    const again = await applyTopology(admin, declared);
    expect(again.plan.actions).to.deep.equal([]);
  });

  it('refuses a partition decrease with one clear line, changing nothing', async () => {
    const other = uniquePrefix('topology-shrink');
    await admin.createTopics({ topics: [{ topic: `${other}order.events`, numPartitions: 6, replicationFactor: 1 }] });
    const result = runTopologyCli(other);
    expect(result.status).to.equal(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.equal(`topology: refused, nothing changed: ${other}order.events: has 6 partitions, declared 3; Kafka cannot remove partitions`);
    // Nothing else was created either.
    expect((await admin.listTopics()).filter((t) => t.startsWith(other))).to.deep.equal([`${other}order.events`]);
  });

  it('refuses to split the co-partitioned inventory topics; moves them together only when allowed', async () => {
    const other = uniquePrefix('topology-split');
    await admin.createTopics({ topics: [{ topic: `${other}inventory.events`, numPartitions: 3, replicationFactor: 1 }] });
    const refused = runTopologyCli(other);
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.contain(`co-partitioned group 'inventory' would be split (${other}inventory.commands=6, ${other}inventory.events=3)`);
    expect((await admin.listTopics()).filter((t) => t.startsWith(other))).to.deep.equal([`${other}inventory.events`]);

    const allowed = runTopologyCli(other, '--allow-repartition');
    expect(allowed.status, allowed.stderr).to.equal(0);
    expect(allowed.stdout).to.contain(`grow ${other}inventory.events: 3 -> 6 partitions`);
    // Partition growth reaches the metadata a moment after the request returns.
    await eventually(async () => {
      const existing = await describeExisting(admin, [`${other}inventory.commands`, `${other}inventory.events`]);
      expect([...existing.values()].map((t) => t.partitions)).to.deep.equal([6, 6]);
    });
  });
});
