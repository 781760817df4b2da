// Inventory's answers to the saga's reservations, back to their orders,
// re-keyed by order.
import type { InventoryEvents } from '../../schemas/generated/inventory.events.ts';
import type { Outbound } from '../platform/processing/command-processor.ts';
import type { Topics, TopicMessage } from '../platform/topics.ts';

export function inventoryToOrders(topics: Topics) {
  return (event: TopicMessage<InventoryEvents>): Outbound[] => {
    if (event.type !== 'StockReserved' && event.type !== 'ReservationRejected') return [];
    const { orderId, reservationId, productVariantId, availableQuantity } = event.data;
    if (!orderId) return [];
    return [{
      topic: topics.orderCommands,
      message: {
        type: 'RecordReservationOutcome',
        data: { orderId, variantId: productVariantId, reservationId, outcome: event.type === 'StockReserved' ? 'RESERVED' : 'REJECTED', availableQuantity },
      },
    }];
  };
}
