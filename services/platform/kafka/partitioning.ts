// Which partition a key belongs to, by the same murmur2 partitioner every
// producer of this system uses (kafkajs' default, compatible with Java's).
// An aggregate's commands and events must share one partition number; a
// command found elsewhere was produced with another partitioner.
import kafkajs from 'kafkajs';

const partitioner = kafkajs.Partitioners.DefaultPartitioner();
const metadataCache = new Map<number, { partitionId: number; leader: number }[]>();

export function partitionOf(key: string, partitions: number): number {
  let metadata = metadataCache.get(partitions);
  if (!metadata) {
    metadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
    metadataCache.set(partitions, metadata);
  }
  return partitioner({ topic: '', partitionMetadata: metadata as never, message: { key, value: null } });
}
