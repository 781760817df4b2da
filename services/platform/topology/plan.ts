// The difference between declared and existing topics, as a plan of safe
// changes or a list of refusals. Pure: the applier fetches the current state and
// executes the plan; nothing here talks to Kafka.
import type { TopicDeclaration } from './declaration.ts';

export interface ExistingTopic {
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

export interface ConfigChange {
  key: string;
  from: string | undefined;
  to: string;
}

export type TopologyAction =
  | { kind: 'create'; topic: TopicDeclaration }
  | { kind: 'alter-configs'; topic: TopicDeclaration; changes: ConfigChange[] }
  | { kind: 'add-partitions'; topic: TopicDeclaration; from: number; to: number };

export interface TopologyPlan {
  actions: TopologyAction[];
  refusals: string[];
  unchanged: string[];
}

export interface PlanOptions {
  /** Permit partition increases on keyed topics (only safe while they are empty). */
  allowRepartition?: boolean;
}

export function planTopology(declared: TopicDeclaration[], existing: ReadonlyMap<string, ExistingTopic>, options: PlanOptions = {}): TopologyPlan {
  const plan: TopologyPlan = { actions: [], refusals: [], unchanged: [] };

  for (const topic of declared) {
    const current = existing.get(topic.name);
    if (!current) {
      plan.actions.push({ kind: 'create', topic });
      continue;
    }
    let changed = false;
    if (current.replicationFactor !== topic.replicationFactor) {
      plan.refusals.push(
        `${topic.name}: replication factor is ${current.replicationFactor}, declared ${topic.replicationFactor}; changing it needs a partition reassignment, which this tool does not do`,
      );
    }
    if (topic.partitions < current.partitions) {
      plan.refusals.push(`${topic.name}: has ${current.partitions} partitions, declared ${topic.partitions}; Kafka cannot remove partitions`);
    } else if (topic.partitions > current.partitions) {
      if (topic.keyed && !options.allowRepartition) {
        plan.refusals.push(
          `${topic.name}: has ${current.partitions} partitions, declared ${topic.partitions}; adding partitions to a keyed topic moves keys away from their history (pass --allow-repartition only for empty topics)`,
        );
      } else {
        plan.actions.push({ kind: 'add-partitions', topic, from: current.partitions, to: topic.partitions });
        changed = true;
      }
    }
    const changes = Object.entries(topic.configs)
      .filter(([key, value]) => current.configs[key] !== value)
      .map(([key, to]) => ({ key, from: current.configs[key], to }));
    if (changes.length > 0) {
      plan.actions.push({ kind: 'alter-configs', topic, changes });
      changed = true;
    }
    if (!changed) plan.unchanged.push(topic.name);
  }

  plan.refusals.push(...coPartitionRefusals(declared, existing, plan.actions));
  return plan;
}

// Co-partitioned topics (same key, same partition number for one aggregate's
// commands and events) must end with equal partition counts: either all of a
// group moves, or none of it.
function coPartitionRefusals(declared: TopicDeclaration[], existing: ReadonlyMap<string, ExistingTopic>, actions: TopologyAction[]): string[] {
  const refusals: string[] = [];
  const groups = new Map<string, TopicDeclaration[]>();
  for (const d of declared) {
    if (d.coPartitionGroup) groups.set(d.coPartitionGroup, [...(groups.get(d.coPartitionGroup) ?? []), d]);
  }
  for (const [group, members] of groups) {
    const after = members.map((m) => {
      const grows = actions.find((a) => a.kind === 'add-partitions' && a.topic.name === m.name);
      const creates = actions.find((a) => a.kind === 'create' && a.topic.name === m.name);
      const count = grows || creates ? m.partitions : (existing.get(m.name)?.partitions ?? m.partitions);
      return { name: m.name, count };
    });
    if (new Set(after.map((a) => a.count)).size > 1) {
      refusals.push(`co-partitioned group '${group}' would be split (${after.map((a) => `${a.name}=${a.count}`).join(', ')}); its topics move together or not at all`);
    }
  }
  return refusals;
}

export function describeAction(action: TopologyAction): string {
  switch (action.kind) {
    case 'create': {
      const configs = Object.entries(action.topic.configs)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      return `create ${action.topic.name}: ${action.topic.partitions} partitions, replication ${action.topic.replicationFactor}, ${configs}`;
    }
    case 'alter-configs':
      return `alter ${action.topic.name}: ${action.changes.map((c) => `${c.key} ${c.from ?? '(default)'} -> ${c.to}`).join(', ')}`;
    case 'add-partitions':
      return `grow ${action.topic.name}: ${action.from} -> ${action.to} partitions`;
  }
}
