// Inventory's answers about new variants become catalogue commands, re-keyed by
// product: a stock record exists (the variant becomes ACTIVE), or it could not
// be set up.
import type { InventoryEvents } from '../../schemas/generated/inventory.events.ts';
import type { Outbound } from '../platform/processing/command-processor.ts';
import type { Topics, TopicMessage } from '../platform/topics.ts';

export function inventoryToCatalogue(topics: Topics) {
  return (event: TopicMessage<InventoryEvents>): Outbound[] => {
    switch (event.type) {
      case 'InventoryRecordInitialized':
        return [{ topic: topics.productCommands, message: { type: 'RecordInventoryReady', data: { productId: event.data.productId, variantId: event.data.productVariantId } } }];
      case 'InventorySetupFailed':
        return [{ topic: topics.productCommands, message: { type: 'RecordInventorySetupFailed', data: { productId: event.data.productId, variantId: event.data.productVariantId, reason: event.data.reason } } }];
      default:
        return [];
    }
  };
}
