// Applying fetched batches to databases being rebuilt. A bulk build commits
// rarely: an interrupted rebuild is thrown away anyway, so batches go into one
// long transaction (each batch a savepoint inside it), committed every so often
// and at the end. Used by the rebuild's worker thread and by its main thread,
// which each own some of the projections.
import type { KafkaMessage } from 'kafkajs';
import type { Codec } from '../schemas/codec.ts';
import type { TopicDescriptor } from '../topics.ts';
import { applyBatch, decodeBatch, wantedTypes, type ProjectionHandle } from './apply.ts';

const COMMIT_EVERY = 100_000;

export interface BulkApplier {
  /** Decodes and applies a batch; returns the events each projection applied. */
  apply(topic: TopicDescriptor, partition: number, messages: KafkaMessage[], next: bigint): Promise<Record<string, number>>;
  finish(topic: TopicDescriptor, partition: number, high: bigint): void;
  close(): void;
}

export function createBulkApplier(codec: Codec, handles: ProjectionHandle[]): BulkApplier {
  let sinceCommit = 0;
  const readers = (topic: TopicDescriptor) => handles.filter((h) => h.projection.topics.some((t) => t.baseName === topic.baseName));
  const wanted = new Map<string, Set<string> | undefined>();
  const wantedFrom = (topic: TopicDescriptor) => {
    if (!wanted.has(topic.name))
      wanted.set(
        topic.name,
        wantedTypes(
          handles.map((h) => h.projection),
          topic,
        ),
      );
    return wanted.get(topic.name);
  };
  const open = () => {
    for (const h of handles) if (!h.db.inTransaction) h.db.exec('BEGIN');
  };
  const commit = () => {
    for (const h of handles) if (h.db.inTransaction) h.db.exec('COMMIT');
    sinceCommit = 0;
  };
  return {
    async apply(topic, partition, messages, next) {
      const mine = readers(topic);
      if (mine.length === 0) return {};
      // Poison was dead-lettered by the live consumer already; a rebuild only skips it.
      const events = await decodeBatch(codec, topic, partition, messages, async () => {}, wantedFrom(topic));
      open();
      const applied: Record<string, number> = {};
      for (const h of mine) applied[h.projection.name] = applyBatch(h, topic, partition, events, next);
      sinceCommit += events.length;
      if (sinceCommit >= COMMIT_EVERY) commit();
      return applied;
    },
    finish(topic, partition, high) {
      open();
      for (const h of readers(topic)) applyBatch(h, topic, partition, [], high);
      commit();
    },
    close() {
      commit();
      for (const h of handles) h.db.close();
    },
  };
}
