// How each inventory event changes a variant's state. Levels are taken from the
// events, which carry them after the change, rather than recomputed.
import type { InventoryEvent, ReservationOutcome, VariantStock } from './state.ts';

function closeReservation(state: VariantStock, reservationId: string | null | undefined, closedBy: 'RELEASED' | 'EXPIRED' | 'SOLD') {
  if (!reservationId) return { open: state.open, outcomes: state.outcomes };
  const outcome = state.outcomes.get(reservationId);
  return {
    open: state.open.delete(reservationId),
    outcomes: outcome?.kind === 'RESERVED' ? state.outcomes.set(reservationId, { ...outcome, closedBy }) : state.outcomes,
  };
}

export function evolve(state: VariantStock, event: InventoryEvent): VariantStock {
  switch (event.type) {
    case 'InventoryRecordInitialized': {
      const e = event.data;
      return {
        ...state,
        lifecycle: 'ACTIVE',
        productId: e.productId,
        sku: e.sku,
        quantity: e.quantity,
        reserved: e.reservedQuantity,
        lowStockThreshold: e.lowStockThreshold,
        awaitingInitialStock: e.status === 'AWAITING_INITIAL_STOCK',
        status: e.status,
        version: e.version,
      };
    }
    case 'InventorySetupFailed':
      return state;
    case 'StockReserved': {
      const e = event.data;
      const outcome: ReservationOutcome = { kind: 'RESERVED', units: e.reservedUnits, orderId: e.orderId, expiresAt: e.expiresAt };
      return {
        ...state,
        quantity: e.quantity,
        reserved: e.reservedQuantity,
        version: e.version,
        open: state.open.set(e.reservationId, { units: e.reservedUnits, orderId: e.orderId, expiresAt: e.expiresAt }),
        outcomes: state.outcomes.set(e.reservationId, outcome),
      };
    }
    case 'ReservationRejected': {
      const e = event.data;
      const outcome: ReservationOutcome = { kind: 'REJECTED', requested: e.requestedUnits, orderId: e.orderId, reason: e.reason, available: e.availableQuantity };
      return { ...state, version: e.version, outcomes: state.outcomes.set(e.reservationId, outcome) };
    }
    case 'StockReleased':
    case 'ReservationExpired': {
      const e = event.data;
      const closed = closeReservation(state, e.reservationId, event.type === 'StockReleased' ? 'RELEASED' : 'EXPIRED');
      return { ...state, ...closed, quantity: e.quantity, reserved: e.reservedQuantity, version: e.version };
    }
    case 'StockLevelChanged': {
      const e = event.data;
      const closed = e.changeType === 'SALE' ? closeReservation(state, e.reservationId, 'SOLD') : { open: state.open, outcomes: state.outcomes };
      return {
        ...state,
        ...closed,
        quantity: e.quantity,
        reserved: e.reservedQuantity,
        awaitingInitialStock: state.awaitingInitialStock && e.delta <= 0,
        version: e.version,
      };
    }
    case 'StockStatusChanged':
      return { ...state, status: event.data.status, version: event.data.version };
    case 'LowStockThresholdReached':
    case 'OutOfStock':
    case 'StockReplenished':
      return { ...state, version: event.data.version };
    case 'InventoryVariantDiscontinued':
      return { ...state, discontinued: true, version: event.data.version };
    case 'InventoryRecordRetired':
      return { ...state, lifecycle: 'RETIRED', version: event.data.version };
    case 'InventoryRetirementBlocked':
      return { ...state, lifecycle: 'RETIREMENT_BLOCKED', version: event.data.version };
  }
}
