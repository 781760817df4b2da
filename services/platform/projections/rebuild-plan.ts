// Step 1 of a rebuild (rebuild.ts): what it would read, per topic and
// partition, refused before anything is touched if retention deleted the
// beginning of any partition the projections read.
import type { Kafka } from 'kafkajs';
import type { TopicDescriptor } from '../topics.ts';
import type { Projection } from './projection.ts';

export class RebuildRefused extends Error {}

export interface PartitionExtent {
  partition: number;
  low: bigint;
  high: bigint;
}

export interface RebuildPlan {
  topics: Map<string, { topic: TopicDescriptor; partitions: PartitionExtent[] }>;
  projections: { projection: Projection; events: bigint }[];
}

/** Each topic's partitions, from their first to their last offset. */
export async function extents(kafka: Kafka, topics: TopicDescriptor[]): Promise<Map<string, PartitionExtent[]>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = new Map<string, PartitionExtent[]>();
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic.name);
      result.set(
        topic.name,
        offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) })).sort((a, b) => a.partition - b.partition),
      );
    }
    return result;
  } finally {
    await admin.disconnect();
  }
}

/** What a rebuild would read; refuses if any partition lost its beginning. */
export async function planRebuild(kafka: Kafka, projections: Projection[]): Promise<RebuildPlan> {
  const topics = new Map<string, TopicDescriptor>();
  for (const p of projections) for (const t of p.topics) topics.set(t.name, t);
  const found = await extents(kafka, [...topics.values()]);
  const truncated: string[] = [];
  for (const [name, partitions] of found) {
    for (const p of partitions) if (p.low > 0n) truncated.push(`${name}[${p.partition}] starts at offset ${p.low}`);
  }
  if (truncated.length) {
    const who = projections.filter((p) => p.topics.some((t) => truncated.some((x) => x.startsWith(`${t.name}[`)))).map((p) => p.name);
    throw new RebuildRefused(`the log no longer starts at offset 0 (retention deleted its beginning): ${truncated.join(', ')}; cannot rebuild ${who.join(', ')}; nothing was changed`);
  }
  return {
    topics: new Map([...topics].map(([name, topic]) => [name, { topic, partitions: found.get(name)! }])),
    projections: projections.map((projection) => ({
      projection,
      events: projection.topics.reduce((n, t) => n + found.get(t.name)!.reduce((m, p) => m + p.high - p.low, 0n), 0n),
    })),
  };
}
