import { expect } from 'chai';
import { createOrderDecider } from '../../services/order/decider/decider.ts';
import { orderReactions } from '../../services/order/decider/reactions.ts';
import type { OrderCommand, OrderEvent } from '../../services/order/decider/state.ts';
import { fold } from '../../services/platform/decider.ts';
import { topicsFor } from '../../services/topics.ts';
import type { PlaceOrder } from '../../schemas/generated/order.commands.ts';
import { NOW, runTable } from '../support/decider-table.ts';

const O = 'o-1';
const settings = { sagaTimeoutMs: 30_000, paymentWindowMs: 600_000 };
const decider = createOrderDecider(settings);
const at = (version: number) => ({ orderId: O, version, occurredAt: NOW });

type Line = PlaceOrder['lines'][number];
const line = (variantId: string, quantity: number, unitPriceMinor: number | null = 1000, variantStatus = 'ACTIVE', currency: string | null = 'EUR'): Line => ({
  variantId,
  productId: unitPriceMinor === null ? null : 'p-1',
  sku: unitPriceMinor === null ? null : `SKU-${variantId}`,
  quantity,
  unitPriceMinor,
  currency,
  variantStatus,
  priceSource: unitPriceMinor === null ? null : 'PRODUCT_SERVICE',
});
const place = (lines: Line[], extra: Partial<PlaceOrder> = {}): OrderCommand => ({
  type: 'PlaceOrder',
  data: { orderId: O, customerId: 'c-1', currency: 'EUR', lines, idempotencyKey: 'k-1', requestHash: 'h-1', priceNotes: [], reviewReasons: [], ...extra },
});

const created = (
  lines: [string, number, number][] = [
    ['a', 2, 1000],
    ['b', 1, 2500],
  ],
  version = 1,
): OrderEvent => ({
  type: 'OrderCreated',
  data: {
    ...at(version),
    customerId: 'c-1',
    currency: 'EUR',
    lines: lines.map(([variantId, quantity, unitPriceMinor], i) => ({
      variantId,
      productId: 'p-1',
      sku: `SKU-${variantId}`,
      quantity,
      unitPriceMinor,
      reservationId: `${O}.${i}`,
      priceSource: 'PRODUCT_SERVICE' as const,
    })),
    totalMinor: lines.reduce((n, [, q, p]) => n + q * p, 0),
    idempotencyKey: 'k-1',
    requestHash: 'h-1',
    priceNotes: [],
    sagaDeadline: NOW + settings.sagaTimeoutMs,
    paymentDeadline: NOW + settings.paymentWindowMs,
  },
});
const recorded = (version: number, i: number, variantId: string, outcome: 'RESERVED' | 'REJECTED', availableQuantity = 10): OrderEvent => ({
  type: 'OrderLineReservationRecorded',
  data: { ...at(version), variantId, reservationId: `${O}.${i}`, outcome, availableQuantity },
});
const outcome = (i: number, variantId: string, result: 'RESERVED' | 'REJECTED', availableQuantity = 10): OrderCommand => ({
  type: 'RecordReservationOutcome',
  data: { orderId: O, variantId, reservationId: `${O}.${i}`, outcome: result, availableQuantity },
});
const e = {
  confirmed: (v: number): OrderEvent => ({ type: 'OrderConfirmed', data: at(v) }),
  rejected: (v: number, reason: string, shortLines: { variantId: string; sku: string; requested: number; available: number }[]): OrderEvent => ({
    type: 'OrderRejected',
    data: { ...at(v), reason, shortLines },
  }),
  cancelled: (v: number, reason: string | null): OrderEvent => ({ type: 'OrderCancelled', data: { ...at(v), reason } }),
  paid: (v: number, amountMinor: number): OrderEvent => ({ type: 'OrderPaid', data: { ...at(v), amountMinor } }),
  returned: (v: number, items: { variantId: string; quantity: number }[]): OrderEvent => ({ type: 'OrderReturned', data: { ...at(v), items } }),
  flagged: (v: number, reasons: string[]): OrderEvent => ({ type: 'OrderFlaggedForReview', data: { ...at(v), reasons } }),
};
const c = {
  cancel: (reason: string | null = 'changed my mind'): OrderCommand => ({ type: 'CancelOrder', data: { orderId: O, reason } }),
  pay: (): OrderCommand => ({ type: 'PayOrder', data: { orderId: O } }),
  return: (items: { variantId: string; quantity: number }[]): OrderCommand => ({ type: 'ReturnOrder', data: { orderId: O, items } }),
  flag: (reasons: string[]): OrderCommand => ({ type: 'FlagOrderForReview', data: { orderId: O, reasons } }),
  timeout: (asOf: number): OrderCommand => ({ type: 'TimeOutOrder', data: { orderId: O, asOf } }),
};

const pending = [created()];
const confirmed = [created(), recorded(2, 0, 'a', 'RESERVED'), recorded(3, 1, 'b', 'RESERVED'), e.confirmed(4)];
const paid = [...confirmed, e.paid(5, 4500)];

describe('order decider', () => {
  describe('placing an order', () => {
    runTable(decider, [
      { name: "from a price snapshot, with the saga's deadlines", given: [], when: place([line('a', 2), line('b', 1, 2500)]), then: [created()] },
      {
        name: 'with review reasons found beforehand: flagged at once',
        given: [],
        when: place([line('a', 2), line('b', 1, 2500)], { reviewReasons: ['total differs by 12.00'] }),
        then: [created(), e.flagged(2, ['total differs by 12.00'])],
      },
      { name: 'the same request again (same Idempotency-Key): the same order, nothing new', given: pending, when: place([line('a', 2), line('b', 1, 2500)]), unchanged: 'ALREADY_APPLIED' },
      { name: 'the same key with another request is refused', given: pending, when: place([line('a', 3)], { requestHash: 'h-2' }), rejected: 'IDEMPOTENCY_CONFLICT' },
      { name: 'an unknown variant is refused, naming the line', given: [], when: place([line('a', 1), line('zz', 1, null, 'UNKNOWN')]), rejected: ['INVALID_ORDER', 'lines[1]: unknown variant zz'] },
      {
        name: 'a discontinued variant is refused, naming the line',
        given: [],
        when: place([line('a', 1, 1000, 'DISCONTINUED')]),
        rejected: ['INVALID_ORDER', 'lines[0]: variant a (SKU-a) is discontinued'],
      },
      {
        name: 'a variant not yet for sale is refused',
        given: [],
        when: place([line('a', 1, 1000, 'PENDING_INVENTORY')]),
        rejected: ['INVALID_ORDER', 'lines[0]: variant a (SKU-a) is not for sale (PENDING_INVENTORY)'],
      },
      { name: 'a quantity under 1 is refused, naming the line', given: [], when: place([line('a', 1), line('b', 0)]), rejected: ['INVALID_ORDER', 'lines[1]: quantity must be at least 1, got 0'] },
      { name: 'a line in another currency is refused', given: [], when: place([line('a', 1, 1000, 'ACTIVE', 'USD')]), rejected: ['INVALID_ORDER', 'lines[0]: priced in USD, the order in EUR'] },
      { name: 'no lines is refused', given: [], when: place([]), rejected: 'INVALID_ORDER' },
    ]);
  });

  describe('the checkout saga', () => {
    runTable(decider, [
      { name: 'a first line reserved: recorded, still pending', given: pending, when: outcome(0, 'a', 'RESERVED'), then: [recorded(2, 0, 'a', 'RESERVED')] },
      { name: 'every line reserved: confirmed', given: [...pending, recorded(2, 0, 'a', 'RESERVED')], when: outcome(1, 'b', 'RESERVED'), then: [recorded(3, 1, 'b', 'RESERVED'), e.confirmed(4)] },
      {
        name: 'one line short: rejected, naming the short line',
        given: [...pending, recorded(2, 0, 'a', 'RESERVED')],
        when: outcome(1, 'b', 'REJECTED', 0),
        then: [recorded(3, 1, 'b', 'REJECTED', 0), e.rejected(4, 'INSUFFICIENT_STOCK', [{ variantId: 'b', sku: 'SKU-b', requested: 1, available: 0 }])],
      },
      { name: 'the same answer twice: recorded once', given: [...pending, recorded(2, 0, 'a', 'RESERVED')], when: outcome(0, 'a', 'RESERVED'), unchanged: 'ALREADY_APPLIED' },
      { name: 'an answer for a reservation the order does not have is refused', given: pending, when: outcome(7, 'a', 'RESERVED'), rejected: 'UNKNOWN_RESERVATION' },
      {
        name: 'not answered within the bound: rejected by itself',
        given: [...pending, recorded(2, 0, 'a', 'RESERVED')],
        when: c.timeout(NOW + 30_000),
        then: [e.rejected(3, 'SAGA_TIMEOUT: inventory did not answer for SKU-b in time', [])],
      },
      { name: 'before the bound, the timer changes nothing', given: pending, when: c.timeout(NOW + 29_999), unchanged: 'NO_CHANGE' },
      {
        name: 'an answer after the order was rejected is recorded (and released)',
        given: [...pending, e.rejected(2, 'SAGA_TIMEOUT', [])],
        when: outcome(1, 'b', 'RESERVED'),
        then: [recorded(3, 1, 'b', 'RESERVED')],
      },
      { name: 'a confirmed order not paid in time is cancelled', given: confirmed, when: c.timeout(NOW + 600_000), then: [e.cancelled(5, 'PAYMENT_WINDOW_ELAPSED')] },
    ]);
  });

  describe('cancel, pay, return, review', () => {
    runTable(decider, [
      { name: 'cancel a confirmed order', given: confirmed, when: c.cancel(), then: [e.cancelled(5, 'changed my mind')] },
      { name: 'cancel a pending order', given: pending, when: c.cancel(), then: [e.cancelled(2, 'changed my mind')] },
      { name: 'cancel twice: already applied', given: [...confirmed, e.cancelled(5, null)], when: c.cancel(), unchanged: 'ALREADY_APPLIED' },
      { name: 'a paid order cannot be cancelled', given: paid, when: c.cancel(), rejected: ['INVALID_TRANSITION', 'is PAID and cannot be cancelled'] },
      { name: 'pay a confirmed order: the whole total', given: confirmed, when: c.pay(), then: [e.paid(5, 4500)] },
      { name: 'a pending order cannot be paid', given: pending, when: c.pay(), rejected: ['INVALID_TRANSITION', 'is PENDING and cannot be paid'] },
      { name: 'pay twice: already applied', given: paid, when: c.pay(), unchanged: 'ALREADY_APPLIED' },
      { name: 'return part of a paid order', given: paid, when: c.return([{ variantId: 'a', quantity: 1 }]), then: [e.returned(6, [{ variantId: 'a', quantity: 1 }])] },
      {
        name: 'return more than was bought is refused',
        given: [...paid, e.returned(6, [{ variantId: 'a', quantity: 1 }])],
        when: c.return([{ variantId: 'a', quantity: 2 }]),
        rejected: ['INVALID_RETURN', 'only 1 can still be'],
      },
      { name: 'return of a variant not in the order is refused', given: paid, when: c.return([{ variantId: 'z', quantity: 1 }]), rejected: 'INVALID_RETURN' },
      { name: 'an unpaid order cannot be returned', given: confirmed, when: c.return([{ variantId: 'a', quantity: 1 }]), rejected: 'INVALID_TRANSITION' },
      { name: 'flag for review', given: confirmed, when: c.flag(['variant a discontinued']), then: [e.flagged(5, ['variant a discontinued'])] },
      { name: 'the same flag twice: once', given: [...confirmed, e.flagged(5, ['variant a discontinued'])], when: c.flag(['variant a discontinued']), unchanged: 'ALREADY_APPLIED' },
      { name: 'commands for an unknown order are refused', given: [], when: c.pay(), rejected: 'UNKNOWN_ORDER' },
    ]);
  });

  describe('what the saga asks of inventory', () => {
    const topics = topicsFor('t.');
    const react = orderReactions(topics);
    const reactTo = (given: OrderEvent[], events: OrderEvent[]) => react(O, events, fold(decider, decider.initialState, [...given, ...events])).map((o) => ({ topic: o.topic.baseName, ...o.message }));

    it('reserves every line when the order is created, re-keyed by variant, outliving the payment window', () => {
      expect(reactTo([], [created()])).to.deep.equal([
        { topic: 'inventory.commands', type: 'ReserveStock', data: { productVariantId: 'a', reservationId: `${O}.0`, orderId: O, quantity: 2, ttlSeconds: 660 } },
        { topic: 'inventory.commands', type: 'ReserveStock', data: { productVariantId: 'b', reservationId: `${O}.1`, orderId: O, quantity: 1, ttlSeconds: 660 } },
      ]);
    });

    it('releases what was reserved when the order is rejected, once', () => {
      const given = [...pending, recorded(2, 0, 'a', 'RESERVED')];
      const events = [recorded(3, 1, 'b', 'REJECTED', 0), e.rejected(4, 'INSUFFICIENT_STOCK', [])];
      expect(reactTo(given, events)).to.deep.equal([
        { topic: 'inventory.commands', type: 'ReleaseReservation', data: { productVariantId: 'a', reservationId: `${O}.0`, reason: 'order rejected: INSUFFICIENT_STOCK' } },
      ]);
    });

    it('releases an answer that comes after the order was rejected', () => {
      expect(reactTo([...pending, e.rejected(2, 'SAGA_TIMEOUT', [])], [recorded(3, 1, 'b', 'RESERVED')])).to.deep.equal([
        { topic: 'inventory.commands', type: 'ReleaseReservation', data: { productVariantId: 'b', reservationId: `${O}.1`, reason: 'order already rejected' } },
      ]);
    });

    it('releases everything held on cancel, sells it on payment, restocks a return', () => {
      expect(reactTo(confirmed, [e.cancelled(5, 'x')]).map((o) => [o.type, (o.data as { productVariantId: string }).productVariantId])).to.deep.equal([
        ['ReleaseReservation', 'a'],
        ['ReleaseReservation', 'b'],
      ]);
      expect(reactTo(confirmed, [e.paid(5, 4500)]).map((o) => o.data)).to.deep.equal([
        { productVariantId: 'a', changeType: 'SALE', quantity: 2, orderId: O, reservationId: `${O}.0`, reason: null },
        { productVariantId: 'b', changeType: 'SALE', quantity: 1, orderId: O, reservationId: `${O}.1`, reason: null },
      ]);
      expect(reactTo(paid, [e.returned(6, [{ variantId: 'a', quantity: 1 }])]).map((o) => o.data)).to.deep.equal([
        { productVariantId: 'a', changeType: 'RETURN', quantity: 1, orderId: O, reservationId: null, reason: 'order return' },
      ]);
    });
  });
});
