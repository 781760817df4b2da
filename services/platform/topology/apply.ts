// Reads the cluster's current topics, plans against the declaration and, unless
// it is a dry run or something was refused, executes the plan.
import kafkajs, { type Admin } from 'kafkajs';
import type { TopicDeclaration } from './declaration.ts';
import { planTopology, type ExistingTopic, type PlanOptions, type TopologyPlan } from './plan.ts';

// kafkajs is CommonJS; Node only detects some of its named exports.
const { ConfigResourceTypes } = kafkajs;

export async function describeExisting(admin: Admin, names: string[]): Promise<Map<string, ExistingTopic>> {
  const all = new Set(await admin.listTopics());
  const present = names.filter((n) => all.has(n));
  const existing = new Map<string, ExistingTopic>();
  if (present.length === 0) return existing;
  const { topics } = await admin.fetchTopicMetadata({ topics: present });
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  for (const t of topics) {
    const resource = resources.find((r) => r.resourceName === t.name);
    const configs: Record<string, string> = {};
    for (const entry of resource?.configEntries ?? []) configs[entry.configName] = entry.configValue;
    existing.set(t.name, {
      partitions: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
      configs,
    });
  }
  return existing;
}

// New partitions reach the metadata a moment after CreatePartitions returns;
// wait, so that whoever reads the topology next sees what was applied.
async function waitForPartitions(admin: Admin, topics: TopicDeclaration[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
    if (topics.every((t) => metadata.find((m) => m.name === t.name)?.partitions.length === t.partitions)) return;
    if (Date.now() > deadline) throw new Error(`partitions of ${topics.map((t) => t.name).join(', ')} did not appear within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface ApplyResult {
  plan: TopologyPlan;
  applied: boolean;
}

export async function applyTopology(admin: Admin, declared: TopicDeclaration[], options: PlanOptions & { dryRun?: boolean } = {}): Promise<ApplyResult> {
  const existing = await describeExisting(
    admin,
    declared.map((d) => d.name),
  );
  const plan = planTopology(declared, existing, options);
  if (options.dryRun || plan.refusals.length > 0 || plan.actions.length === 0) return { plan, applied: false };

  const creates = plan.actions.flatMap((a) => (a.kind === 'create' ? [a.topic] : []));
  if (creates.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: creates.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  // One request for all growing topics, so a co-partitioned group moves together.
  const grows = plan.actions.flatMap((a) => (a.kind === 'add-partitions' ? [a.topic] : []));
  if (grows.length > 0) {
    await admin.createPartitions({ topicPartitions: grows.map((t) => ({ topic: t.name, count: t.partitions })) });
    await waitForPartitions(admin, grows);
  }
  const alters = plan.actions.flatMap((a) => (a.kind === 'alter-configs' ? [a.topic] : []));
  if (alters.length > 0) {
    // AlterConfigs replaces a topic's whole set of overrides, so send every declared key.
    await admin.alterConfigs({
      validateOnly: false,
      resources: alters.map((t) => ({
        type: ConfigResourceTypes.TOPIC,
        name: t.name,
        configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  return { plan, applied: true };
}
