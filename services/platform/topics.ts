// Typed topic descriptors: a topic's full name (with TOPIC_PREFIX), its key, its
// partition count, and the records it carries as a type map. Code passes these
// around instead of strings, so a producer cannot put a record on a topic whose
// schemas do not include it.
import type { InventoryCommands } from '../../schemas/generated/inventory.commands.ts';
import type { InventoryEvents } from '../../schemas/generated/inventory.events.ts';
import type { OrderCommands } from '../../schemas/generated/order.commands.ts';
import type { OrderEvents } from '../../schemas/generated/order.events.ts';
import type { ProductCommands } from '../../schemas/generated/product.commands.ts';
import type { ProductDetailsReplies } from '../../schemas/generated/product.details.replies.ts';
import type { ProductDetailsRequests } from '../../schemas/generated/product.details.requests.ts';
import type { ProductEvents } from '../../schemas/generated/product.events.ts';
import { readTopologyFile } from './topology/declaration.ts';

/** Record name -> record shape, as generated from schemas/<topic>/. */
export type RecordMap = { [name: string]: object };

export interface TopicDescriptor<M extends RecordMap = RecordMap> {
  /** Full name on the broker, prefix included. */
  readonly name: string;
  /** Name as declared in topology/ and schemas/. */
  readonly baseName: string;
  /** Field of every record that is the message key. */
  readonly key: string;
  readonly partitions: number;
  /** Phantom: the records this topic carries. */
  readonly records?: M;
}

/**
 * The records every `.events` topic carries for outcomes that change no state
 * (schemas/shared/): the command processor writes them, deciders never do.
 */
export type OutcomeRecord = 'CommandRejected' | 'CommandUnchanged';

/** One decoded message of a topic: `{type: 'StockReserved', data: {...}}`. */
export type TopicMessage<M extends RecordMap> = { [K in keyof M & string]: { type: K; data: M[K] } }[keyof M & string];

export interface Topics {
  productCommands: TopicDescriptor<ProductCommands>;
  productEvents: TopicDescriptor<ProductEvents>;
  inventoryCommands: TopicDescriptor<InventoryCommands>;
  inventoryEvents: TopicDescriptor<InventoryEvents>;
  orderCommands: TopicDescriptor<OrderCommands>;
  orderEvents: TopicDescriptor<OrderEvents>;
  productDetailsRequests: TopicDescriptor<ProductDetailsRequests>;
  productDetailsReplies: TopicDescriptor<ProductDetailsReplies>;
}

const BASE_NAMES: Record<keyof Topics, string> = {
  productCommands: 'product.commands',
  productEvents: 'product.events',
  inventoryCommands: 'inventory.commands',
  inventoryEvents: 'inventory.events',
  orderCommands: 'order.commands',
  orderEvents: 'order.events',
  productDetailsRequests: 'product.details.requests',
  productDetailsReplies: 'product.details.replies',
};

export function topicsFor(prefix: string): Topics {
  const declared = readTopologyFile().topics;
  const descriptor = (baseName: string): TopicDescriptor => {
    const entry = declared[baseName];
    if (!entry?.key) throw new Error(`topology/topics.yaml does not declare a keyed topic '${baseName}'`);
    return { name: `${prefix}${baseName}`, baseName, key: entry.key, partitions: entry.partitions };
  };
  return Object.fromEntries(
    Object.entries(BASE_NAMES).map(([field, baseName]) => [field, descriptor(baseName)]),
  ) as unknown as Topics;
}

/** Where the messages of a topic (its full name) go that cannot be handled. */
export function deadLetterTopicName(topic: string): string {
  return `${topic}.dlq`;
}
