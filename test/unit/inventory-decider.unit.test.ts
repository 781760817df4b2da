import { inventoryDecider } from '../../services/inventory/decider/decider.ts';
import type { InventoryCommand, InventoryEvent } from '../../services/inventory/decider/state.ts';
import type { StockChangeType, StockStatus } from '../../schemas/generated/inventory.events.ts';
import { NOW, runTable, type Case } from '../support/decider-table.ts';

const V = 'v-1';
const TTL = 900_000;
type L = { q: number; r: number };
const levels = ({ q, r }: L) => ({ quantity: q, reservedQuantity: r, availableQuantity: q - r });
const at = (version: number) => ({ productVariantId: V, version, occurredAt: NOW });

// Events, built with the defaults every case shares.
/** The status a record with threshold 5 has at these levels. */
const statusAt = (l: L): StockStatus => (l.q - l.r <= 0 ? 'OUT_OF_STOCK' : l.q - l.r <= 5 ? 'LOW_STOCK' : 'IN_STOCK');
const e = {
  initialized: (version: number, q: number, status: StockStatus, threshold = 5): InventoryEvent => ({
    type: 'InventoryRecordInitialized',
    data: { ...at(version), productId: 'p-1', sku: 'SKU-1', lowStockThreshold: threshold, ...levels({ q, r: 0 }), status },
  }),
  reserved: (version: number, id: string, units: number, l: L, expiresAt = NOW + TTL, orderId: string | null = null): InventoryEvent => ({
    type: 'StockReserved',
    data: { ...at(version), reservationId: id, orderId, reservedUnits: units, expiresAt, ...levels(l) },
  }),
  rejected: (version: number, id: string, requested: number, available: number, reason: 'INSUFFICIENT_STOCK' | 'DISCONTINUED' | 'RETIRED' = 'INSUFFICIENT_STOCK'): InventoryEvent => ({
    type: 'ReservationRejected',
    data: { ...at(version), reservationId: id, orderId: null, requestedUnits: requested, reason, availableQuantity: available },
  }),
  released: (version: number, id: string, units: number, l: L, reason: string | null = null): InventoryEvent => ({
    type: 'StockReleased',
    data: { ...at(version), reservationId: id, orderId: null, releasedUnits: units, reason, ...levels(l) },
  }),
  expired: (version: number, id: string, units: number, expiredAt: number, l: L): InventoryEvent => ({
    type: 'ReservationExpired',
    data: { ...at(version), reservationId: id, orderId: null, releasedUnits: units, expiredAt, ...levels(l) },
  }),
  changed: (version: number, changeType: StockChangeType, delta: number, l: L, reservationId: string | null = null, status: StockStatus = statusAt(l)): InventoryEvent => ({
    type: 'StockLevelChanged',
    data: { ...at(version), changeType, delta, reservationId, orderId: null, reason: null, ...levels(l), status },
  }),
  status: (version: number, previousStatus: StockStatus, status: StockStatus, available: number): InventoryEvent => ({
    type: 'StockStatusChanged',
    data: { ...at(version), previousStatus, status, availableQuantity: available },
  }),
  low: (version: number, available: number, threshold = 5): InventoryEvent => ({
    type: 'LowStockThresholdReached',
    data: { ...at(version), availableQuantity: available, lowStockThreshold: threshold },
  }),
  out: (version: number): InventoryEvent => ({ type: 'OutOfStock', data: at(version) }),
  replenished: (version: number, available: number): InventoryEvent => ({ type: 'StockReplenished', data: { ...at(version), availableQuantity: available } }),
  discontinued: (version: number): InventoryEvent => ({ type: 'InventoryVariantDiscontinued', data: at(version) }),
  retired: (version: number): InventoryEvent => ({ type: 'InventoryRecordRetired', data: at(version) }),
  blocked: (version: number, q: number, r: number): InventoryEvent => ({ type: 'InventoryRetirementBlocked', data: { ...at(version), quantity: q, reservedQuantity: r } }),
};

// Commands.
const c = {
  init: (initialStock: number | null, lowStockThreshold: number | null = 5, sku = 'SKU-1'): InventoryCommand => ({
    type: 'InitializeInventory',
    data: { productVariantId: V, productId: 'p-1', sku, initialStock, lowStockThreshold },
  }),
  reserve: (id: string, quantity: number, ttlSeconds: number | null = null): InventoryCommand => ({
    type: 'ReserveStock',
    data: { productVariantId: V, reservationId: id, orderId: null, quantity, ttlSeconds },
  }),
  release: (id: string): InventoryCommand => ({ type: 'ReleaseReservation', data: { productVariantId: V, reservationId: id, reason: null } }),
  adjust: (changeType: StockChangeType, quantity: number, reservationId: string | null = null): InventoryCommand => ({
    type: 'AdjustStock',
    data: { productVariantId: V, changeType, quantity, orderId: null, reservationId, reason: null },
  }),
  expire: (asOf: number): InventoryCommand => ({ type: 'ExpireReservations', data: { productVariantId: V, asOf } }),
  discontinue: (): InventoryCommand => ({ type: 'DiscontinueVariant', data: { productVariantId: V } }),
  retire: (): InventoryCommand => ({ type: 'RetireVariant', data: { productVariantId: V } }),
};

const stocked20 = [e.initialized(1, 20, 'IN_STOCK')];
const holding5 = [...stocked20, e.reserved(2, 'r1', 5, { q: 20, r: 5 })];

describe('inventory decider', () => {
  describe('initialisation from ProductVariantCreated', () => {
    runTable(inventoryDecider, [
      { name: 'with initial stock: version 1, status from the stock', given: [], when: c.init(20), then: [e.initialized(1, 20, 'IN_STOCK')] },
      { name: 'without initial stock: quantity 0, awaiting initial stock', given: [], when: c.init(null), then: [e.initialized(1, 0, 'AWAITING_INITIAL_STOCK')] },
      { name: 'with an initial stock of 0: out of stock, announced', given: [], when: c.init(0), then: [e.initialized(1, 0, 'OUT_OF_STOCK'), e.out(2)] },
      { name: 'at or under the threshold: low stock, announced', given: [], when: c.init(5), then: [e.initialized(1, 5, 'LOW_STOCK'), e.low(2, 5)] },
      { name: 'with no threshold: the default of 10', given: [], when: c.init(10, null), then: [e.initialized(1, 10, 'LOW_STOCK', 10), e.low(2, 10, 10)] },
      { name: 'arriving again: idempotent, nothing happens', given: stocked20, when: c.init(20), unchanged: 'ALREADY_APPLIED' },
      {
        name: 'for a variant id already used by another SKU: setup fails, unversioned',
        given: stocked20,
        when: c.init(20, 5, 'SKU-2'),
        then: [
          { type: 'InventorySetupFailed', data: { productVariantId: V, productId: 'p-1', sku: 'SKU-2', reason: 'variant v-1 already has a stock record for product p-1, SKU SKU-1', occurredAt: NOW } },
        ],
      },
      {
        name: 'with negative stock: setup fails',
        given: [],
        when: c.init(-1),
        then: [{ type: 'InventorySetupFailed', data: { productVariantId: V, productId: 'p-1', sku: 'SKU-1', reason: 'initial stock -1 is negative', occurredAt: NOW } }],
      },
    ]);
  });

  describe('reservations', () => {
    runTable(inventoryDecider, [
      { name: 'reserve within available stock, expiring after 15 minutes by default', given: stocked20, when: c.reserve('r1', 5), then: [e.reserved(2, 'r1', 5, { q: 20, r: 5 })] },
      { name: 'a per-request time to live', given: stocked20, when: c.reserve('r1', 5, 60), then: [e.reserved(2, 'r1', 5, { q: 20, r: 5 }, NOW + 60_000)] },
      { name: 'short stock is rejected, carrying what is available', given: holding5, when: c.reserve('r2', 16), then: [e.rejected(3, 'r2', 16, 15)] },
      { name: 'the same reservationId again: first outcome, no second effect', given: holding5, when: c.reserve('r1', 5), unchanged: 'ALREADY_APPLIED' },
      {
        name: 'a rejected reservationId again, even after a restock: still rejected',
        given: [...holding5, e.rejected(3, 'r2', 16, 15), e.changed(4, 'RESTOCK', 100, { q: 120, r: 5 })],
        when: c.reserve('r2', 16),
        unchanged: 'ALREADY_APPLIED',
      },
      { name: 'the same reservationId for another quantity is a conflict', given: holding5, when: c.reserve('r1', 6), rejected: 'IDEMPOTENCY_CONFLICT' },
      { name: 'an unknown variant is refused', given: [], when: c.reserve('r1', 1), rejected: 'UNKNOWN_VARIANT' },
      { name: 'a quantity under 1 is refused', given: stocked20, when: c.reserve('r1', 0), rejected: 'INVALID_QUANTITY' },
      { name: 'awaiting initial stock: nothing is available', given: [e.initialized(1, 0, 'AWAITING_INITIAL_STOCK')], when: c.reserve('r1', 1), then: [e.rejected(2, 'r1', 1, 0)] },
      {
        name: 'falling to the threshold: low stock announced',
        given: stocked20,
        when: c.reserve('r1', 15),
        then: [e.reserved(2, 'r1', 15, { q: 20, r: 15 }), e.status(3, 'IN_STOCK', 'LOW_STOCK', 5), e.low(4, 5)],
      },
      {
        name: 'taking the last units: out of stock announced',
        given: stocked20,
        when: c.reserve('r1', 20),
        then: [e.reserved(2, 'r1', 20, { q: 20, r: 20 }), e.status(3, 'IN_STOCK', 'OUT_OF_STOCK', 0), e.out(4)],
      },
    ]);
  });

  describe('release and expiry', () => {
    const due = NOW - 1;
    const twoHeld = [...stocked20, e.reserved(2, 'r1', 5, { q: 20, r: 5 }, due), e.reserved(3, 'r2', 3, { q: 20, r: 8 }, NOW + TTL)];
    runTable(inventoryDecider, [
      { name: 'release frees the units', given: holding5, when: c.release('r1'), then: [e.released(3, 'r1', 5, { q: 20, r: 0 })] },
      { name: 'release twice: the second changes nothing', given: [...holding5, e.released(3, 'r1', 5, { q: 20, r: 0 })], when: c.release('r1'), unchanged: ['ALREADY_APPLIED', 'already released'] },
      { name: 'release of an unknown reservation is refused', given: holding5, when: c.release('nope'), rejected: 'UNKNOWN_RESERVATION' },
      { name: 'release of a rejected reservation is refused', given: [...holding5, e.rejected(3, 'r2', 99, 15)], when: c.release('r2'), rejected: 'NOT_RESERVED' },
      {
        name: 'release out of stock: replenished',
        given: [...stocked20, e.reserved(2, 'r1', 20, { q: 20, r: 20 }), e.status(3, 'IN_STOCK', 'OUT_OF_STOCK', 0), e.out(4)],
        when: c.release('r1'),
        then: [e.released(5, 'r1', 20, { q: 20, r: 0 }), e.status(6, 'OUT_OF_STOCK', 'IN_STOCK', 20), e.replenished(7, 20)],
      },
      { name: 'expiry frees only what is due', given: twoHeld, when: c.expire(NOW), then: [e.expired(4, 'r1', 5, due, { q: 20, r: 3 })] },
      { name: 'expiry with nothing due changes nothing', given: twoHeld, when: c.expire(due - 1), unchanged: ['NO_CHANGE', 'due to expire'] },
      {
        name: 'an expired reservation cannot be released again',
        given: [...twoHeld, e.expired(4, 'r1', 5, due, { q: 20, r: 3 })],
        when: c.release('r1'),
        unchanged: ['ALREADY_APPLIED', 'already expired'],
      },
      { name: 'an expired reservation cannot be sold', given: [...twoHeld, e.expired(4, 'r1', 5, due, { q: 20, r: 3 })], when: c.adjust('SALE', 5, 'r1'), rejected: 'RESERVATION_CLOSED' },
    ]);
  });

  describe('sales and stock changes', () => {
    const awaiting = [e.initialized(1, 0, 'AWAITING_INITIAL_STOCK')];
    const outOfStock = [...stocked20, e.changed(2, 'SALE', -20, { q: 0, r: 0 }), e.status(3, 'IN_STOCK', 'OUT_OF_STOCK', 0), e.out(4)];
    runTable(inventoryDecider, [
      { name: 'sale of a reservation: quantity and reserved both fall', given: holding5, when: c.adjust('SALE', 5, 'r1'), then: [e.changed(3, 'SALE', -5, { q: 15, r: 0 }, 'r1')] },
      { name: 'the same sale twice: no second effect', given: [...holding5, e.changed(3, 'SALE', -5, { q: 15, r: 0 }, 'r1')], when: c.adjust('SALE', 5, 'r1'), unchanged: 'ALREADY_APPLIED' },
      { name: 'a sale naming other units than the reservation holds is refused', given: holding5, when: c.adjust('SALE', 4, 'r1'), rejected: 'INVALID_QUANTITY' },
      { name: 'a direct sale from free stock', given: holding5, when: c.adjust('SALE', 2), then: [e.changed(3, 'SALE', -2, { q: 18, r: 5 })] },
      { name: 'a direct sale of reserved units is refused: no oversell', given: holding5, when: c.adjust('SALE', 16), rejected: 'INSUFFICIENT_STOCK' },
      {
        name: 'first stock arrives: replenished',
        given: awaiting,
        when: c.adjust('RESTOCK', 30),
        then: [e.changed(2, 'RESTOCK', 30, { q: 30, r: 0 }), e.status(3, 'AWAITING_INITIAL_STOCK', 'IN_STOCK', 30), e.replenished(4, 30)],
      },
      {
        name: 'first stock arrives under the threshold: replenished, and low',
        given: awaiting,
        when: c.adjust('RESTOCK', 3),
        then: [e.changed(2, 'RESTOCK', 3, { q: 3, r: 0 }), e.status(3, 'AWAITING_INITIAL_STOCK', 'LOW_STOCK', 3), e.low(4, 3), e.replenished(5, 3)],
      },
      {
        name: 'restock after out of stock: replenished',
        given: outOfStock,
        when: c.adjust('RESTOCK', 3),
        then: [e.changed(5, 'RESTOCK', 3, { q: 3, r: 0 }), e.status(6, 'OUT_OF_STOCK', 'LOW_STOCK', 3), e.replenished(7, 3)],
      },
      { name: 'a return restocks', given: holding5, when: c.adjust('RETURN', 2), then: [e.changed(3, 'RETURN', 2, { q: 22, r: 5 })] },
      { name: 'an adjustment may go down', given: holding5, when: c.adjust('ADJUSTMENT', -3), then: [e.changed(3, 'ADJUSTMENT', -3, { q: 17, r: 5 })] },
      { name: 'an adjustment below what is reserved is refused', given: holding5, when: c.adjust('ADJUSTMENT', -16), rejected: ['INSUFFICIENT_STOCK', 'would leave 4 on hand for 5 reserved'] },
      { name: 'damage of free units', given: holding5, when: c.adjust('DAMAGE', 15), then: [e.changed(3, 'DAMAGE', -15, { q: 5, r: 5 }), e.status(4, 'IN_STOCK', 'OUT_OF_STOCK', 0), e.out(5)] },
      { name: 'a zero adjustment is refused', given: holding5, when: c.adjust('ADJUSTMENT', 0), rejected: 'INVALID_QUANTITY' },
      { name: 'a restock of less than one unit is refused', given: holding5, when: c.adjust('RESTOCK', 0), rejected: 'INVALID_QUANTITY' },
    ]);
  });

  describe('discontinuation and deletion (from product events)', () => {
    const discontinued = [...holding5, e.discontinued(3), e.status(4, 'IN_STOCK', 'DISCONTINUED', 15)];
    const blocked = [...holding5, e.blocked(3, 20, 5), e.status(4, 'IN_STOCK', 'DISCONTINUED', 15)];
    runTable(inventoryDecider, [
      { name: 'discontinued: status DISCONTINUED', given: holding5, when: c.discontinue(), then: [e.discontinued(3), e.status(4, 'IN_STOCK', 'DISCONTINUED', 15)] },
      { name: 'discontinued twice: nothing more', given: discontinued, when: c.discontinue(), unchanged: 'ALREADY_APPLIED' },
      { name: 'discontinued: new reservations are refused', given: discontinued, when: c.reserve('r2', 1), then: [e.rejected(5, 'r2', 1, 15, 'DISCONTINUED')] },
      { name: 'discontinued: existing reservations can be released', given: discontinued, when: c.release('r1'), then: [e.released(5, 'r1', 5, { q: 20, r: 0 })] },
      { name: 'discontinued: existing reservations can be sold', given: discontinued, when: c.adjust('SALE', 5, 'r1'), then: [e.changed(5, 'SALE', -5, { q: 15, r: 0 }, 'r1', 'DISCONTINUED')] },
      { name: 'deleted with nothing on hand: retired', given: [e.initialized(1, 0, 'OUT_OF_STOCK')], when: c.retire(), then: [e.retired(2)] },
      {
        name: 'deleted with stock on hand: flagged for an operator, reservations refused',
        given: holding5,
        when: c.retire(),
        then: [e.blocked(3, 20, 5), e.status(4, 'IN_STOCK', 'DISCONTINUED', 15)],
      },
      { name: 'flagged: new reservations are refused', given: blocked, when: c.reserve('r2', 1), then: [e.rejected(5, 'r2', 1, 15, 'RETIRED')] },
      {
        name: 'flagged: once the last units leave, the record retires',
        given: [...blocked, e.changed(5, 'DAMAGE', -15, { q: 5, r: 5 })],
        when: c.adjust('SALE', 5, 'r1'),
        then: [e.changed(6, 'SALE', -5, { q: 0, r: 0 }, 'r1', 'DISCONTINUED'), e.retired(7)],
      },
      { name: 'deletion of a variant inventory never set up changes nothing', given: [], when: c.retire(), unchanged: ['NO_CHANGE', 'no stock record'] },
      { name: 'a retired record refuses stock changes', given: [e.initialized(1, 0, 'OUT_OF_STOCK'), e.retired(2)], when: c.adjust('RESTOCK', 1), rejected: 'RETIRED' },
    ] satisfies Case<InventoryCommand, InventoryEvent>[]);
  });
});
