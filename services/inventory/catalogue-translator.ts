// Catalogue events become inventory commands, re-keyed by variant: a new
// variant gets a stock record, a discontinued one stops selling, a deleted one
// is retired.
import type { ProductEvents } from '../../schemas/generated/product.events.ts';
import type { Outbound } from '../platform/processing/command-processor.ts';
import type { TopicMessage } from '../platform/topics.ts';
import type { Topics } from '../topics.ts';

export function catalogueToInventory(topics: Topics) {
  return (event: TopicMessage<ProductEvents>): Outbound[] => {
    const to = (message: Outbound['message']): Outbound[] => [{ topic: topics.inventoryCommands, message }];
    switch (event.type) {
      case 'ProductVariantCreated': {
        const d = event.data;
        return to({ type: 'InitializeInventory', data: { productVariantId: d.variantId, productId: d.productId, sku: d.sku, initialStock: d.initialStock, lowStockThreshold: d.lowStockThreshold } });
      }
      case 'ProductVariantUpdated':
        return event.data.status === 'DISCONTINUED' ? to({ type: 'DiscontinueVariant', data: { productVariantId: event.data.variantId } }) : [];
      case 'ProductVariantDeleted':
        return to({ type: 'RetireVariant', data: { productVariantId: event.data.variantId } });
      default:
        return [];
    }
  };
}
