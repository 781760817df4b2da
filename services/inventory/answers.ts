// Inventory answers the aggregates that ask it for something, on their own
// command topics, in the same transaction as its decision
// (AggregateDefinition.react): the checkout saga's reservations go back to
// their orders, a new variant's stock record back to its product. One hop less
// than a translator reading inventory.events back, and no window in which the
// decision is on the log but its answer is not.
import type { Outbound } from '../platform/processing/command-processor.ts';
import type { Topics } from '../topics.ts';
import type { InventoryEvent } from './decider/state.ts';

export function answers(topics: Topics) {
  const answer = (event: InventoryEvent): Outbound[] => {
    switch (event.type) {
      case 'StockReserved':
      case 'ReservationRejected': {
        const { orderId, reservationId, productVariantId, availableQuantity } = event.data;
        if (!orderId) return [];
        const outcome = event.type === 'StockReserved' ? 'RESERVED' : 'REJECTED';
        return [{ topic: topics.orderCommands, message: { type: 'RecordReservationOutcome', data: { orderId, variantId: productVariantId, reservationId, outcome, availableQuantity } } }];
      }
      case 'InventoryRecordInitialized':
        return [{ topic: topics.productCommands, message: { type: 'RecordInventoryReady', data: { productId: event.data.productId, variantId: event.data.productVariantId } } }];
      case 'InventorySetupFailed':
        return [
          {
            topic: topics.productCommands,
            message: { type: 'RecordInventorySetupFailed', data: { productId: event.data.productId, variantId: event.data.productVariantId, reason: event.data.reason } },
          },
        ];
      default:
        return [];
    }
  };
  return (_variantId: string, events: InventoryEvent[]): Outbound[] => events.flatMap(answer);
}
