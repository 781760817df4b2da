// The aggregate states of the partitions a command processor owns, in memory:
// a cache of the events partition with the same number (the log is the
// truth). Restored fully on a partition's first assignment, and from the last
// offset reflected on later ones, each event applied at most once.
import type { Kafka } from 'kafkajs';
import { readPartitions } from '../kafka/partition-reader.ts';
import type { Logger } from '../logger.ts';
import type { Codec } from '../schemas/codec.ts';
import { decodeOrPoison } from '../schemas/decode-or-poison.ts';
import type { AggregateDefinition, Message } from './aggregate-definition.ts';

export interface PartitionStore<S> {
  aggregates: Map<string, S>;
  /** Unique key -> the aggregate holding it. */
  owners: Map<string, string>;
  /** Next offset of the events partition not yet reflected in `aggregates`. */
  eventsOffset: bigint;
}

export interface AggregateStores<S> {
  storeFor(partition: number): PartitionStore<S>;
  get(partition: number): PartitionStore<S> | undefined;
  /** Catches the stores of these partitions up with their events partitions. */
  restore(partitions: number[], heartbeat: () => Promise<void>): Promise<void>;
  release(partitions: number[]): void;
}

export function createAggregateStores<S, C extends Message, E extends Message, R extends string>(options: {
  kafka: Kafka;
  codec: Codec;
  definition: AggregateDefinition<S, C, E, R>;
  groupId: string;
  logger: Logger;
}): AggregateStores<S> {
  const { kafka, codec, definition, groupId, logger } = options;
  const { decider, events } = definition;
  const stores = new Map<number, PartitionStore<S>>();

  const storeFor = (partition: number): PartitionStore<S> => {
    let store = stores.get(partition);
    if (!store) {
      store = { aggregates: new Map(), owners: new Map(), eventsOffset: 0n };
      stores.set(partition, store);
    }
    return store;
  };

  async function restore(partitions: number[], heartbeat: () => Promise<void>): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    let offsets: { partition: number; high: string; low: string }[];
    try {
      offsets = await admin.fetchTopicOffsets(events.name);
    } finally {
      await admin.disconnect();
    }
    const ranges = partitions.map((partition) => {
      const store = storeFor(partition);
      const end = offsets.find((o) => o.partition === partition);
      const high = BigInt(end?.high ?? '0');
      const low = BigInt(end?.low ?? '0');
      if (store.eventsOffset > high) {
        // The events partition is shorter than what we reflected: it was recreated.
        logger.warn({ partition, had: String(store.eventsOffset), high: String(high) }, 'events partition shrank; restoring from scratch');
        store.aggregates.clear();
        store.eventsOffset = 0n;
      }
      if (store.eventsOffset < low) {
        throw new Error(`${events.name}[${partition}] starts at offset ${low}: its history was deleted, so the aggregates of this partition cannot be rebuilt`);
      }
      return { partition, from: store.eventsOffset, to: high };
    });
    const started = Date.now();
    let applied = 0;
    await readPartitions({
      kafka,
      topic: events.name,
      ranges,
      groupPrefix: `${groupId}-restore`,
      onProgress: heartbeat,
      onBatch: async (partition, messages) => {
        const store = storeFor(partition);
        for (const message of messages) {
          const decoded = await decodeOrPoison(codec, events, message.value);
          if (!decoded.ok) {
            // Not one of ours: this processor only appends what it can read. Its
            // readers dead-letter it; the state never contained it.
            logger.warn({ topic: events.name, partition, offset: message.offset, reason: decoded.poison }, 'skipping an undecodable event while restoring');
            continue;
          }
          const event: Message = decoded.message;
          const version = definition.versionOfEvent(event as E);
          const id = message.key?.toString();
          if (version === undefined || !id) continue;
          const state = store.aggregates.get(id) ?? decider.initialState;
          // Applied at most once, whatever offset the catch-up starts from.
          if (version <= definition.versionOfState(state)) continue;
          store.aggregates.set(id, decider.evolve(state, event as E));
          applied++;
        }
      },
    });
    for (const r of ranges) {
      const store = storeFor(r.partition);
      store.eventsOffset = r.to;
      if (definition.uniqueKeys) {
        store.owners.clear();
        for (const [id, state] of store.aggregates) for (const k of definition.uniqueKeys(state)) store.owners.set(k, id);
      }
    }
    logger.info({ topic: events.name, partitions, applied, ms: Date.now() - started }, 'aggregate state restored');
  }

  return {
    storeFor,
    get: (partition) => stores.get(partition),
    restore,
    release(partitions) {
      for (const p of partitions) stores.delete(p);
    },
  };
}
