// One key for a (topic, partition) pair in the maps that track read models'
// checkpoints and positions, made and read back only here. The topic is its
// declared name (no prefix), as checkpoints are stored.
import type { TopicDescriptor } from '../topics.ts';

declare const brand: unique symbol;
export type PartitionKey = string & { readonly [brand]: 'PartitionKey' };

export interface TopicPartition {
  /** Declared name, e.g. inventory.events. */
  topic: string;
  partition: number;
}

export function partitionKey(topic: TopicDescriptor | string, partition: number): PartitionKey {
  return `${typeof topic === 'string' ? topic : topic.baseName}|${partition}` as PartitionKey;
}

export function topicPartitionOf(key: PartitionKey): TopicPartition {
  const at = key.lastIndexOf('|');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** The keys of one topic among a map's. */
export function keysOf(topic: TopicDescriptor, keys: Iterable<PartitionKey>): { key: PartitionKey; partition: number }[] {
  const result: { key: PartitionKey; partition: number }[] = [];
  for (const key of keys) {
    const tp = topicPartitionOf(key);
    if (tp.topic === topic.baseName) result.push({ key, partition: tp.partition });
  }
  return result;
}
