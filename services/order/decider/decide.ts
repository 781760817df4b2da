// The order rules, and the checkout saga they drive. An order is created from a
// price snapshot, then waits for inventory's answer on every line (the
// reservations its creation asked for): all reserved, it is confirmed; any
// short, it is rejected naming the short lines, and what was reserved is
// released. Past the saga's bound it compensates by itself; a confirmed order
// not paid before its reservations would expire is cancelled. Cancel, pay and
// return follow. The commands these steps send to inventory are derived from
// the events (see reactions.ts), in the same transaction.
import type { PlaceOrder, ReturnOrder } from '../../../schemas/generated/order.commands.ts';
import { accept, reject, unchanged, UNCHANGED, type CommandContext, type Decision as Decided } from '../../platform/decider.ts';
import type { OrderCommand, OrderEvent, OrderSettings, OrderState } from './state.ts';

type Stamped = 'orderId' | 'version' | 'occurredAt';
type Draft = OrderEvent extends infer E ? (E extends { type: infer T; data: infer D } ? { type: T; data: Omit<D, Stamped> } : never) : never;

/** Why an order command may not happen: the closed set its callers map to answers. */
export const REJECTION = {
  invalid: 'INVALID_ORDER',
  idempotencyConflict: 'IDEMPOTENCY_CONFLICT',
  unknownOrder: 'UNKNOWN_ORDER',
  unknownReservation: 'UNKNOWN_RESERVATION',
  invalidTransition: 'INVALID_TRANSITION',
  invalidReturn: 'INVALID_RETURN',
} as const;
export type OrderRejection = (typeof REJECTION)[keyof typeof REJECTION];
type Decision = Decided<OrderEvent, OrderRejection>;

export const MAX_LINES = 50;

function stamp(state: OrderState, orderId: string, now: number, drafts: Draft[]): OrderEvent[] {
  return drafts.map((d, i) => ({ type: d.type, data: { ...d.data, orderId, version: state.version + i + 1, occurredAt: now } }) as OrderEvent);
}

/** Why a line cannot be ordered, naming it, or nothing when it can. */
function lineProblem(line: PlaceOrder['lines'][number], i: number, currency: string): string | undefined {
  const at = `lines[${i}]`;
  if (line.quantity < 1) return `${at}: quantity must be at least 1, got ${line.quantity}`;
  if (line.variantStatus === 'UNKNOWN' || line.productId === null || line.sku === null || line.unitPriceMinor === null) return `${at}: unknown variant ${line.variantId}`;
  if (line.variantStatus === 'DISCONTINUED' || line.variantStatus === 'DELETED') return `${at}: variant ${line.variantId} (${line.sku}) is ${line.variantStatus.toLowerCase()}`;
  if (line.variantStatus !== 'ACTIVE') return `${at}: variant ${line.variantId} (${line.sku}) is not for sale (${line.variantStatus})`;
  if (line.currency !== null && line.currency !== currency) return `${at}: priced in ${line.currency}, the order in ${currency}`;
  return undefined;
}

function place(state: OrderState, c: PlaceOrder, now: number, settings: OrderSettings): Decision {
  if (state.status !== 'NEW') {
    return state.requestHash === c.requestHash
      ? unchanged(UNCHANGED.alreadyApplied, `order ${c.orderId} was already placed`)
      : reject(REJECTION.idempotencyConflict, `Idempotency-Key ${c.idempotencyKey} was already used for a different order request`);
  }
  if (c.lines.length < 1 || c.lines.length > MAX_LINES) return reject(REJECTION.invalid, `an order has 1 to ${MAX_LINES} lines, got ${c.lines.length}`);
  for (const [i, line] of c.lines.entries()) {
    const problem = lineProblem(line, i, c.currency);
    if (problem) return reject(REJECTION.invalid, problem);
  }
  const lines = c.lines.map((l, i) => ({
    variantId: l.variantId,
    productId: l.productId!,
    sku: l.sku!,
    quantity: l.quantity,
    unitPriceMinor: l.unitPriceMinor!,
    reservationId: `${c.orderId}.${i}`,
    // A command from before lines said where their price came from was priced from the copy.
    priceSource: l.priceSource ?? 'CATALOGUE_COPY',
  }));
  const drafts: Draft[] = [
    {
      type: 'OrderCreated',
      data: {
        customerId: c.customerId,
        currency: c.currency,
        lines,
        totalMinor: lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0),
        idempotencyKey: c.idempotencyKey,
        requestHash: c.requestHash,
        priceNotes: c.priceNotes,
        sagaDeadline: now + settings.sagaTimeoutMs,
        paymentDeadline: now + settings.paymentWindowMs,
      },
    },
  ];
  if (c.reviewReasons.length > 0) drafts.push({ type: 'OrderFlaggedForReview', data: { reasons: c.reviewReasons } });
  return accept(...stamp(state, c.orderId, now, drafts));
}

function shortLines(state: OrderState) {
  return state.lines.filter((l) => l.outcome === 'REJECTED').map((l) => ({ variantId: l.variantId, sku: l.sku, requested: l.quantity, available: l.available ?? 0 }));
}

function recordOutcome(state: OrderState, c: { reservationId: string; variantId: string; outcome: 'RESERVED' | 'REJECTED'; availableQuantity: number }, now: number): Decision {
  const line = state.lines.find((l) => l.reservationId === c.reservationId);
  if (!line) return reject(REJECTION.unknownReservation, `order ${state.orderId} has no reservation ${c.reservationId}`);
  if (line.outcome) return unchanged(UNCHANGED.alreadyApplied, `the outcome of ${c.reservationId} is already recorded`);
  const recorded: Draft = { type: 'OrderLineReservationRecorded', data: { variantId: c.variantId, reservationId: c.reservationId, outcome: c.outcome, availableQuantity: c.availableQuantity } };
  if (state.status !== 'PENDING') return accept(...stamp(state, state.orderId, now, [recorded])); // late: reactions release it
  const after = state.lines.map((l) => (l === line ? { ...l, outcome: c.outcome, available: c.availableQuantity } : l));
  if (after.some((l) => !l.outcome)) return accept(...stamp(state, state.orderId, now, [recorded]));
  const short = shortLines({ ...state, lines: after });
  const conclusion: Draft = short.length === 0 ? { type: 'OrderConfirmed', data: {} } : { type: 'OrderRejected', data: { reason: 'INSUFFICIENT_STOCK', shortLines: short } };
  return accept(...stamp(state, state.orderId, now, [recorded, conclusion]));
}

function returnItems(state: OrderState, c: ReturnOrder, now: number): Decision {
  if (state.status !== 'PAID' && state.status !== 'RETURNED') return reject(REJECTION.invalidTransition, `order ${state.orderId} is ${state.status}; only a paid order can be returned`);
  if (c.items.length === 0) return reject(REJECTION.invalidReturn, 'a return names at least one item');
  for (const [i, item] of c.items.entries()) {
    const bought = state.lines.filter((l) => l.variantId === item.variantId);
    if (bought.length === 0) return reject(REJECTION.invalidReturn, `items[${i}]: variant ${item.variantId} is not in order ${state.orderId}`);
    const open = bought.reduce((n, l) => n + l.quantity - l.returned, 0);
    const asked = c.items.filter((x) => x.variantId === item.variantId).reduce((n, x) => n + x.quantity, 0);
    if (item.quantity < 1) return reject(REJECTION.invalidReturn, `items[${i}]: quantity must be at least 1`);
    if (asked > open) return reject(REJECTION.invalidReturn, `items[${i}]: ${asked} of variant ${item.variantId} returned, but only ${open} can still be`);
  }
  return accept(...stamp(state, state.orderId, now, [{ type: 'OrderReturned', data: { items: c.items } }]));
}

export function createDecide(settings: OrderSettings) {
  return function decide(state: OrderState, command: OrderCommand, { now }: CommandContext): Decision {
    if (command.type === 'PlaceOrder') return place(state, command.data, now, settings);
    if (state.status === 'NEW') return reject(REJECTION.unknownOrder, `no order ${command.data.orderId}`);
    const wrongState = (action: string) => reject(REJECTION.invalidTransition, `order ${state.orderId} is ${state.status} and cannot be ${action}`);
    switch (command.type) {
      case 'RecordReservationOutcome':
        return recordOutcome(state, command.data, now);
      case 'CancelOrder':
        if (state.status === 'CANCELLED') return unchanged(UNCHANGED.alreadyApplied, `order ${state.orderId} is already cancelled`);
        if (state.status !== 'PENDING' && state.status !== 'CONFIRMED') return wrongState('cancelled');
        return accept(...stamp(state, state.orderId, now, [{ type: 'OrderCancelled', data: { reason: command.data.reason } }]));
      case 'PayOrder':
        if (state.status === 'PAID' || state.status === 'RETURNED') return unchanged(UNCHANGED.alreadyApplied, `order ${state.orderId} is already paid`);
        if (state.status !== 'CONFIRMED') return wrongState('paid');
        return accept(...stamp(state, state.orderId, now, [{ type: 'OrderPaid', data: { amountMinor: state.totalMinor } }]));
      case 'ReturnOrder':
        return returnItems(state, command.data, now);
      case 'FlagOrderForReview': {
        const fresh = command.data.reasons.filter((r) => !state.reviewReasons.includes(r));
        return fresh.length
          ? accept(...stamp(state, state.orderId, now, [{ type: 'OrderFlaggedForReview', data: { reasons: fresh } }]))
          : unchanged(UNCHANGED.alreadyApplied, `order ${state.orderId} is already flagged for these reasons`);
      }
      case 'TimeOutOrder': {
        const { asOf } = command.data;
        if (state.status === 'PENDING' && asOf >= state.sagaDeadline) {
          const silent = state.lines.filter((l) => !l.outcome).map((l) => l.sku);
          return accept(
            ...stamp(state, state.orderId, now, [
              { type: 'OrderRejected', data: { reason: `SAGA_TIMEOUT: inventory did not answer for ${silent.join(', ') || 'every line'} in time`, shortLines: shortLines(state) } },
            ]),
          );
        }
        if (state.status === 'CONFIRMED' && asOf >= state.paymentDeadline) {
          return accept(...stamp(state, state.orderId, now, [{ type: 'OrderCancelled', data: { reason: 'PAYMENT_WINDOW_ELAPSED' } }]));
        }
        return unchanged(UNCHANGED.noChange, `nothing of order ${state.orderId} is due as of ${new Date(asOf).toISOString()}`);
      }
    }
  };
}
