// The inventory rules: initialisation from the catalogue, reservations with a
// time to live, releases, expiry, sales and stock changes, discontinuation and
// retirement. Every event carries the variant's next version; every change of
// levels is followed by the status announcements it causes.
import type { InitializeInventory, ReserveStock, AdjustStock, ReleaseReservation } from '../../../schemas/generated/inventory.commands.ts';
import type { StockStatus } from '../../../schemas/generated/inventory.events.ts';
import { accept, fold, reject, unchanged, UNCHANGED, type CommandContext, type Decision as Decided } from '../../platform/decider.ts';
import { evolve } from './evolve.ts';
import { available, DEFAULT_LOW_STOCK_THRESHOLD, DEFAULT_RESERVATION_TTL_SECONDS, statusOf, type InventoryCommand, type InventoryEvent, type VariantStock } from './state.ts';

type Stamped = 'productVariantId' | 'version' | 'occurredAt';
/** An event before the decider gives it the variant id, its version and its time. */
type Draft = InventoryEvent extends infer E ? (E extends { type: infer T; data: infer D } ? { type: T; data: Omit<D, Stamped> } : never) : never;
type VersionedEvent = Exclude<InventoryEvent, { type: 'InventorySetupFailed' }>;

/** Why an inventory command may not happen: the closed set its callers map to answers. */
export const REJECTION = {
  unknownVariant: 'UNKNOWN_VARIANT',
  unknownReservation: 'UNKNOWN_RESERVATION',
  notReserved: 'NOT_RESERVED',
  reservationClosed: 'RESERVATION_CLOSED',
  idempotencyConflict: 'IDEMPOTENCY_CONFLICT',
  invalidQuantity: 'INVALID_QUANTITY',
  insufficientStock: 'INSUFFICIENT_STOCK',
  retired: 'RETIRED',
} as const;
export type InventoryRejection = (typeof REJECTION)[keyof typeof REJECTION];
type Decision = Decided<InventoryEvent, InventoryRejection>;

function stamp(state: VariantStock, variantId: string, now: number, drafts: Draft[]): VersionedEvent[] {
  return drafts.map((d, i) => ({ type: d.type, data: { ...d.data, productVariantId: variantId, version: state.version + i + 1, occurredAt: now } }) as VersionedEvent);
}

function levels(s: Pick<VariantStock, 'quantity' | 'reserved'>) {
  return { quantity: s.quantity, reservedQuantity: s.reserved, availableQuantity: available(s) };
}

const RANK: Record<StockStatus, number> = { OUT_OF_STOCK: 0, LOW_STOCK: 1, IN_STOCK: 2, AWAITING_INITIAL_STOCK: -1, DISCONTINUED: -1 };

/**
 * The announcements a move from one status to another causes (seed 003), or
 * the arrival at a first status when the record is created (`before`
 * undefined: the status is in InventoryRecordInitialized itself, so no
 * StockStatusChanged). Reaching the low-stock threshold or zero is announced
 * however the record got there, creation included; stock arriving where there
 * was none (out of stock, or never stocked) is a replenishment.
 */
function announcements(before: StockStatus | undefined, after: VariantStock): Draft[] {
  const status = statusOf(after);
  if (status === before) return [];
  const free = available(after);
  const drafts: Draft[] = before === undefined ? [] : [{ type: 'StockStatusChanged', data: { previousStatus: before, status, availableQuantity: free } }];
  if (status === 'LOW_STOCK' && before !== 'OUT_OF_STOCK') {
    drafts.push({ type: 'LowStockThresholdReached', data: { availableQuantity: free, lowStockThreshold: after.lowStockThreshold } });
  }
  if (status === 'OUT_OF_STOCK') drafts.push({ type: 'OutOfStock', data: {} });
  if (before !== undefined && (before === 'OUT_OF_STOCK' || before === 'LOW_STOCK' || before === 'AWAITING_INITIAL_STOCK') && RANK[status] > RANK[before]) {
    drafts.push({ type: 'StockReplenished', data: { availableQuantity: free } });
  }
  return drafts;
}

/**
 * Events for a change, followed by what it causes: status announcements, and
 * the retirement of a deleted variant whose last units just left.
 */
function change(state: VariantStock, variantId: string, now: number, drafts: Draft[]): Decision {
  const primary = stamp(state, variantId, now, drafts);
  const after = fold({ evolve }, state, primary);
  const follow: Draft[] = announcements(state.status, after);
  if (after.lifecycle === 'RETIREMENT_BLOCKED' && after.quantity === 0 && after.reserved === 0) {
    follow.push({ type: 'InventoryRecordRetired', data: {} });
  }
  return accept(...primary, ...stamp(after, variantId, now, follow));
}

function initialize(state: VariantStock, c: InitializeInventory, now: number): Decision {
  const failed = (reason: string) =>
    accept<InventoryEvent>({ type: 'InventorySetupFailed', data: { productVariantId: c.productVariantId, productId: c.productId, sku: c.sku, reason, occurredAt: now } });
  if (state.lifecycle !== 'UNINITIALIZED') {
    if (state.productId === c.productId && state.sku === c.sku) return unchanged(UNCHANGED.alreadyApplied, `variant ${c.productVariantId} already has its stock record`);
    return failed(`variant ${c.productVariantId} already has a stock record for product ${state.productId}, SKU ${state.sku}`);
  }
  if (c.initialStock !== null && c.initialStock < 0) return failed(`initial stock ${c.initialStock} is negative`);
  if (c.lowStockThreshold !== null && c.lowStockThreshold < 0) return failed(`low-stock threshold ${c.lowStockThreshold} is negative`);
  const record = {
    quantity: c.initialStock ?? 0,
    reserved: 0,
    lowStockThreshold: c.lowStockThreshold ?? DEFAULT_LOW_STOCK_THRESHOLD,
    awaitingInitialStock: c.initialStock === null,
    discontinued: false,
    lifecycle: 'ACTIVE' as const,
  };
  const initialized = stamp(state, c.productVariantId, now, [
    { type: 'InventoryRecordInitialized', data: { productId: c.productId, sku: c.sku, lowStockThreshold: record.lowStockThreshold, ...levels(record), status: statusOf(record) } },
  ]);
  const after = fold({ evolve }, state, initialized);
  return accept(...initialized, ...stamp(after, c.productVariantId, now, announcements(undefined, after)));
}

function reserve(state: VariantStock, c: ReserveStock, now: number): Decision {
  const first = state.outcomes.get(c.reservationId);
  if (first) {
    const same = first.kind === 'RESERVED' ? first.units === c.quantity : first.requested === c.quantity;
    return same
      ? unchanged(UNCHANGED.alreadyApplied, `reservation ${c.reservationId} was already decided`)
      : reject(REJECTION.idempotencyConflict, `reservation ${c.reservationId} was already decided for a different quantity`);
  }
  if (c.quantity < 1) return reject(REJECTION.invalidQuantity, `quantity must be at least 1, got ${c.quantity}`);
  const refuse = (reason: 'INSUFFICIENT_STOCK' | 'DISCONTINUED' | 'RETIRED') =>
    accept(
      ...stamp(state, c.productVariantId, now, [
        { type: 'ReservationRejected', data: { reservationId: c.reservationId, orderId: c.orderId, requestedUnits: c.quantity, reason, availableQuantity: Math.max(0, available(state)) } },
      ]),
    );
  if (state.lifecycle !== 'ACTIVE') return refuse('RETIRED');
  if (state.discontinued) return refuse('DISCONTINUED');
  if (available(state) < c.quantity) return refuse('INSUFFICIENT_STOCK');
  const ttl = c.ttlSeconds ?? DEFAULT_RESERVATION_TTL_SECONDS;
  const after = { quantity: state.quantity, reserved: state.reserved + c.quantity };
  return change(state, c.productVariantId, now, [
    { type: 'StockReserved', data: { reservationId: c.reservationId, orderId: c.orderId, reservedUnits: c.quantity, expiresAt: now + ttl * 1000, ...levels(after) } },
  ]);
}

function release(state: VariantStock, c: ReleaseReservation, now: number): Decision {
  const outcome = state.outcomes.get(c.reservationId);
  if (!outcome) return reject(REJECTION.unknownReservation, `variant ${c.productVariantId} has no reservation ${c.reservationId}`);
  if (outcome.kind === 'REJECTED') return reject(REJECTION.notReserved, `reservation ${c.reservationId} was rejected, so nothing is held`);
  const open = state.open.get(c.reservationId);
  if (!open) return unchanged(UNCHANGED.alreadyApplied, `reservation ${c.reservationId} is already ${outcome.closedBy?.toLowerCase() ?? 'closed'}`);
  const after = { quantity: state.quantity, reserved: state.reserved - open.units };
  return change(state, c.productVariantId, now, [
    { type: 'StockReleased', data: { reservationId: c.reservationId, orderId: open.orderId, releasedUnits: open.units, reason: c.reason, ...levels(after) } },
  ]);
}

function expire(state: VariantStock, variantId: string, asOf: number, now: number): Decision {
  const due = [...state.open.entries()].filter(([, r]) => r.expiresAt <= asOf).sort(([, a], [, b]) => a.expiresAt - b.expiresAt);
  if (due.length === 0) return unchanged(UNCHANGED.noChange, `no reservation of variant ${variantId} is due to expire`);
  let reserved = state.reserved;
  const drafts: Draft[] = due.map(([reservationId, r]) => {
    reserved -= r.units;
    return { type: 'ReservationExpired', data: { reservationId, orderId: r.orderId, releasedUnits: r.units, expiredAt: r.expiresAt, ...levels({ quantity: state.quantity, reserved }) } };
  });
  return change(state, variantId, now, drafts);
}

function adjust(state: VariantStock, c: AdjustStock, now: number): Decision {
  if (state.lifecycle === 'RETIRED') return reject(REJECTION.retired, `variant ${c.productVariantId} is retired`);
  const draft = (delta: number, reserved: number, reservationId: string | null): Decision => {
    const after = { quantity: state.quantity + delta, reserved };
    if (after.quantity < after.reserved) {
      return reject(REJECTION.insufficientStock, `${c.changeType} of ${Math.abs(delta)} would leave ${after.quantity} on hand for ${after.reserved} reserved`);
    }
    // The status the change leaves (seed 000): stock arriving ends the wait for initial stock.
    const status = statusOf({ ...state, ...after, awaitingInitialStock: state.awaitingInitialStock && delta <= 0 });
    return change(state, c.productVariantId, now, [
      { type: 'StockLevelChanged', data: { changeType: c.changeType, delta, reservationId, orderId: c.orderId, reason: c.reason, ...levels(after), status } },
    ]);
  };
  if (c.changeType === 'ADJUSTMENT') {
    if (c.quantity === 0) return reject(REJECTION.invalidQuantity, 'an adjustment must change the quantity');
    return draft(c.quantity, state.reserved, null);
  }
  if (c.quantity < 1) return reject(REJECTION.invalidQuantity, `quantity must be at least 1 for ${c.changeType}, got ${c.quantity}`);
  switch (c.changeType) {
    case 'RESTOCK':
    case 'RETURN':
      return draft(c.quantity, state.reserved, null);
    case 'DAMAGE':
      return draft(-c.quantity, state.reserved, null);
    case 'SALE': {
      if (!c.reservationId) return draft(-c.quantity, state.reserved, null);
      const outcome = state.outcomes.get(c.reservationId);
      const open = state.open.get(c.reservationId);
      if (!outcome) return reject(REJECTION.unknownReservation, `variant ${c.productVariantId} has no reservation ${c.reservationId}`);
      if (outcome.kind === 'REJECTED') return reject(REJECTION.notReserved, `reservation ${c.reservationId} was rejected, so nothing can be sold from it`);
      if (!open) {
        return outcome.closedBy === 'SOLD'
          ? unchanged(UNCHANGED.alreadyApplied, `reservation ${c.reservationId} is already sold`)
          : reject(REJECTION.reservationClosed, `reservation ${c.reservationId} is already ${outcome.closedBy?.toLowerCase()}`);
      }
      if (open.units !== c.quantity) {
        return reject(REJECTION.invalidQuantity, `reservation ${c.reservationId} holds ${open.units} units, the sale names ${c.quantity}`);
      }
      return draft(-open.units, state.reserved - open.units, c.reservationId);
    }
  }
}

export function decide(state: VariantStock, command: InventoryCommand, { now }: CommandContext): Decision {
  const variantId = command.data.productVariantId;
  if (command.type === 'InitializeInventory') return initialize(state, command.data, now);
  if (state.lifecycle === 'UNINITIALIZED') {
    // Deletion or discontinuation of a variant inventory never set up changes nothing.
    if (command.type === 'RetireVariant' || command.type === 'DiscontinueVariant' || command.type === 'ExpireReservations') {
      return unchanged(UNCHANGED.noChange, `variant ${variantId} has no stock record`);
    }
    return reject(REJECTION.unknownVariant, `no stock record for variant ${variantId}`);
  }
  switch (command.type) {
    case 'ReserveStock':
      return reserve(state, command.data, now);
    case 'ReleaseReservation':
      return release(state, command.data, now);
    case 'ExpireReservations':
      return expire(state, variantId, command.data.asOf, now);
    case 'AdjustStock':
      return adjust(state, command.data, now);
    case 'DiscontinueVariant':
      if (state.discontinued || state.lifecycle === 'RETIRED') return unchanged(UNCHANGED.alreadyApplied, `variant ${variantId} no longer sells`);
      return change(state, variantId, now, [{ type: 'InventoryVariantDiscontinued', data: {} }]);
    case 'RetireVariant':
      if (state.lifecycle === 'RETIRED' || state.lifecycle === 'RETIREMENT_BLOCKED')
        return unchanged(UNCHANGED.alreadyApplied, `variant ${variantId} is already ${state.lifecycle === 'RETIRED' ? 'retired' : 'up for retirement'}`);
      if (state.quantity === 0 && state.reserved === 0) return accept(...stamp(state, variantId, now, [{ type: 'InventoryRecordRetired', data: {} }]));
      return change(state, variantId, now, [{ type: 'InventoryRetirementBlocked', data: { quantity: state.quantity, reservedQuantity: state.reserved } }]);
  }
}
