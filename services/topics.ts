// The system's topics: which exist and which records each carries, as typed
// descriptors for a TOPIC_PREFIX. Every service reads and writes through
// these, so a producer cannot put a record on a topic whose schemas do not
// include it. Partitions and keys come from topology/topics.yaml.
import type { InventoryCommands } from '../schemas/generated/inventory.commands.ts';
import type { InventoryEvents } from '../schemas/generated/inventory.events.ts';
import type { OrderCommands } from '../schemas/generated/order.commands.ts';
import type { OrderEvents } from '../schemas/generated/order.events.ts';
import type { ProductCommands } from '../schemas/generated/product.commands.ts';
import type { ProductDetailsReplies } from '../schemas/generated/product.details.replies.ts';
import type { ProductDetailsRequests } from '../schemas/generated/product.details.requests.ts';
import type { ProductEvents } from '../schemas/generated/product.events.ts';
import { topicDeclarations, type TopicDescriptor } from './platform/topics.ts';

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

export function topicsFor(prefix: string): Topics {
  const topic = topicDeclarations(prefix);
  return {
    productCommands: topic('product.commands'),
    productEvents: topic('product.events'),
    inventoryCommands: topic('inventory.commands'),
    inventoryEvents: topic('inventory.events'),
    orderCommands: topic('order.commands'),
    orderEvents: topic('order.events'),
    productDetailsRequests: topic('product.details.requests'),
    productDetailsReplies: topic('product.details.replies'),
  };
}
