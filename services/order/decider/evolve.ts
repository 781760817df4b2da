// How each order event changes an order's state.
import type { OrderEvent, OrderState } from './state.ts';

export function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderCreated': {
      const e = event.data;
      return {
        ...state,
        orderId: e.orderId,
        customerId: e.customerId,
        currency: e.currency,
        status: 'PENDING',
        lines: e.lines.map((l) => ({ ...l, returned: 0 })),
        totalMinor: e.totalMinor,
        requestHash: e.requestHash,
        sagaDeadline: e.sagaDeadline,
        paymentDeadline: e.paymentDeadline,
        version: e.version,
      };
    }
    case 'OrderLineReservationRecorded': {
      const e = event.data;
      return {
        ...state,
        lines: state.lines.map((l) => (l.reservationId === e.reservationId ? { ...l, outcome: e.outcome, available: e.availableQuantity } : l)),
        version: e.version,
      };
    }
    case 'OrderConfirmed':
      return { ...state, status: 'CONFIRMED', version: event.data.version };
    case 'OrderRejected':
      return { ...state, status: 'REJECTED', version: event.data.version };
    case 'OrderCancelled':
      return { ...state, status: 'CANCELLED', version: event.data.version };
    case 'OrderPaid':
      return { ...state, status: 'PAID', version: event.data.version };
    case 'OrderReturned': {
      const remaining = new Map(event.data.items.map((i) => [i.variantId, i.quantity]));
      const lines = state.lines.map((l) => {
        const back = Math.min(remaining.get(l.variantId) ?? 0, l.quantity - l.returned);
        if (back > 0) remaining.set(l.variantId, (remaining.get(l.variantId) ?? 0) - back);
        return back > 0 ? { ...l, returned: l.returned + back } : l;
      });
      return { ...state, status: 'RETURNED', lines, version: event.data.version };
    }
    case 'OrderFlaggedForReview':
      return { ...state, reviewReasons: [...state.reviewReasons, ...event.data.reasons], version: event.data.version };
  }
}
