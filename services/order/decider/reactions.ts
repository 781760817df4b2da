// What the checkout saga asks of inventory because of an order's events,
// re-keyed by variant and sent in the same transaction as the events:
// reserve every line when the order is created; release what is held when it
// is rejected or cancelled (and any reservation that answers too late); turn
// reservations into sales when it is paid; restock what comes back.
import { RESERVATION_MARGIN_MS, type OrderEvent, type OrderState } from './state.ts';
import type { Outbound } from '../../platform/processing/command-processor.ts';
import type { Topics } from '../../topics.ts';

export function orderReactions(topics: Topics) {
  const inventory = (message: Outbound['message']): Outbound => ({ topic: topics.inventoryCommands, message });
  const release = (state: OrderState, reservationIds: string[], reason: string): Outbound[] =>
    state.lines
      .filter((l) => reservationIds.includes(l.reservationId))
      .map((l) => inventory({ type: 'ReleaseReservation', data: { productVariantId: l.variantId, reservationId: l.reservationId, reason } }));
  const reserved = (state: OrderState) => state.lines.filter((l) => l.outcome === 'RESERVED').map((l) => l.reservationId);

  const react = (orderId: string, events: OrderEvent[], state: OrderState): Outbound[] =>
    events.flatMap((event): Outbound[] => {
      switch (event.type) {
        case 'OrderCreated': {
          // Reservations outlive the payment window a little, so a paid order's sale still finds them.
          const ttlSeconds = Math.ceil((event.data.paymentDeadline + RESERVATION_MARGIN_MS - event.data.occurredAt) / 1000);
          return event.data.lines.map((l) => inventory({ type: 'ReserveStock', data: { productVariantId: l.variantId, reservationId: l.reservationId, orderId, quantity: l.quantity, ttlSeconds } }));
        }
        case 'OrderRejected':
          return release(state, reserved(state), `order rejected: ${event.data.reason}`);
        case 'OrderCancelled':
          return release(state, reserved(state), `order cancelled${event.data.reason ? `: ${event.data.reason}` : ''}`);
        case 'OrderLineReservationRecorded':
          // An answer that comes after the order was rejected or cancelled is compensated at once.
          return event.data.outcome === 'RESERVED' && (state.status === 'REJECTED' || state.status === 'CANCELLED')
            ? release(state, [event.data.reservationId], `order already ${state.status.toLowerCase()}`)
            : [];
        case 'OrderPaid':
          return state.lines.map((l) =>
            inventory({ type: 'AdjustStock', data: { productVariantId: l.variantId, changeType: 'SALE', quantity: l.quantity, orderId, reservationId: l.reservationId, reason: null } }),
          );
        case 'OrderReturned':
          return event.data.items.map((i) =>
            inventory({ type: 'AdjustStock', data: { productVariantId: i.variantId, changeType: 'RETURN', quantity: i.quantity, orderId, reservationId: null, reason: 'order return' } }),
          );
        default:
          return [];
      }
    });

  // One decision may both record a late answer and conclude the order: ask once.
  return (orderId: string, events: OrderEvent[], state: OrderState): Outbound[] => {
    const seen = new Set<string>();
    return react(orderId, events, state).filter((o) => {
      const reservationId = (o.message.data as { reservationId?: string | null }).reservationId;
      if (!reservationId) return true;
      const key = `${o.message.type}|${reservationId}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  };
}
