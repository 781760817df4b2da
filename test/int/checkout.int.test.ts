// Orders and the checkout saga, end to end through HTTP on the real broker.
import { expect } from 'chai';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call } from '../support/http.ts';
import { createSellable, placeOrder, settle, startSystem, stock, type System } from '../support/system.ts';

describe('checkout saga over HTTP (real broker, three services)', function () {
  this.timeout(240_000);
  let env: TestEnvironment;
  let system: System;

  before(async () => {
    env = await provision('checkout');
    system = await startSystem(env.prefix, { ORDER_SAGA_TIMEOUT_MS: '15000' });
  });
  after(async () => {
    await system?.stop();
    await env.close();
  });

  it('confirms a multi-line order, pricing each line from the catalogue', async () => {
    const {
      variantIds: [a, b],
    } = await createSellable(system, 'Tent', [
      { sku: 'TENT-2P', price: 199.99, initialStock: 5 },
      { sku: 'TENT-PEG', price: 0.5, initialStock: 100 },
    ]);
    const placed = await placeOrder(system, 'alice', [
      { variantId: a!, quantity: 1 },
      { variantId: b!, quantity: 12 },
    ]);
    expect(placed.status).to.equal(202);
    expect(placed.body).to.include({ status: 'PENDING' });
    expect(placed.headers.get('location')).to.equal(`/api/v1/orders/${placed.body.orderId}`);
    const order = await settle(system, placed.body.orderId);
    expect(order).to.include({ status: 'CONFIRMED', customerId: 'alice', currency: 'EUR', total: 205.99 });
    expect(order.items.map((i: { sku: string; quantity: number; unitPrice: number; reservation: string }) => [i.sku, i.quantity, i.unitPrice, i.reservation])).to.deep.equal([
      ['TENT-2P', 1, 199.99, 'RESERVED'],
      ['TENT-PEG', 12, 0.5, 'RESERVED'],
    ]);
    expect(await stock(system, a!)).to.include({ quantity: 5, reservedQuantity: 1, availableQuantity: 4 });
    const allocations = await call(system.inventory.base, 'GET', `/api/v1/allocations/by-order/${placed.body.orderId}`);
    expect(allocations.body.reservations.map((r: { status: string }) => r.status)).to.deep.equal(['RESERVED', 'RESERVED']);
    const items = await call(system.order.base, 'GET', `/api/v1/orders/${placed.body.orderId}/items`);
    expect(items.body).to.have.length(2);
  });

  it("rejects an order with one line short, naming it, and gives the other lines' stock back", async () => {
    const {
      variantIds: [plenty, scarce],
    } = await createSellable(system, 'Stove', [
      { sku: 'STOVE', price: 49, initialStock: 10 },
      { sku: 'GAS', price: 5, initialStock: 2 },
    ]);
    const placed = await placeOrder(system, 'bob', [
      { variantId: plenty!, quantity: 3 },
      { variantId: scarce!, quantity: 5 },
    ]);
    const order = await settle(system, placed.body.orderId);
    expect(order.status).to.equal('REJECTED');
    expect(order.reason).to.equal('INSUFFICIENT_STOCK');
    expect(order.shortLines).to.deep.equal([{ variantId: scarce, sku: 'GAS', requested: 5, available: 2 }]);
    await eventually(async () => expect(await stock(system, plenty!)).to.include({ reservedQuantity: 0, availableQuantity: 10 }));
    expect(await stock(system, scarce!)).to.include({ reservedQuantity: 0, availableQuantity: 2 });
    await eventually(async () => {
      const allocations = await call(system.inventory.base, 'GET', `/api/v1/allocations/by-order/${placed.body.orderId}`);
      expect(allocations.body.reservations.map((r: { status: string }) => r.status).sort()).to.deep.equal(['REJECTED', 'RELEASED']);
    });
  });

  it('cancel restores stock; pay moves reserved units to sold; return restocks', async () => {
    const {
      variantIds: [v],
    } = await createSellable(system, 'Lamp', [{ sku: 'LAMP', price: 30, initialStock: 10 }]);
    const toCancel = await placeOrder(system, 'carol', [{ variantId: v!, quantity: 4 }]);
    await settle(system, toCancel.body.orderId);
    expect(await stock(system, v!)).to.include({ reservedQuantity: 4, availableQuantity: 6 });
    const cancelled = await call(system.order.base, 'POST', `/api/v1/orders/${toCancel.body.orderId}/cancel`, { reason: 'changed my mind' });
    expect(cancelled.status).to.equal(200);
    expect(cancelled.body).to.include({ status: 'CANCELLED', reason: 'changed my mind' });
    await eventually(async () => expect(await stock(system, v!)).to.include({ quantity: 10, reservedQuantity: 0, availableQuantity: 10 }));

    const toPay = await placeOrder(system, 'carol', [{ variantId: v!, quantity: 3 }]);
    await settle(system, toPay.body.orderId);
    const paid = await call(system.order.base, 'POST', `/api/v1/orders/${toPay.body.orderId}/pay`);
    expect(paid.body.status).to.equal('PAID');
    await eventually(async () => expect(await stock(system, v!)).to.include({ quantity: 7, reservedQuantity: 0, availableQuantity: 7 }));
    expect((await call(system.order.base, 'POST', `/api/v1/orders/${toPay.body.orderId}/cancel`)).status).to.equal(409);

    const returned = await call(system.order.base, 'POST', `/api/v1/orders/${toPay.body.orderId}/return`, { items: [{ variantId: v, quantity: 2 }] });
    expect(returned.status).to.equal(200);
    expect(returned.body.status).to.equal('RETURNED');
    await eventually(async () => expect(await stock(system, v!)).to.include({ quantity: 9, availableQuantity: 9 }));
    const tooMany = await call(system.order.base, 'POST', `/api/v1/orders/${toPay.body.orderId}/return`, { items: [{ variantId: v, quantity: 2 }] });
    expect(tooMany.status).to.equal(422);
    const movements = await call(system.inventory.base, 'GET', `/api/v1/reports/stock-movements?productVariantId=${v}`);
    expect(movements.body.map((m: { changeType: string; delta: number }) => [m.changeType, m.delta])).to.deep.equal([
      ['RETURN', 2],
      ['SALE', -3],
    ]);
  });

  it('never oversells when concurrent orders race for the last units', async () => {
    const {
      variantIds: [v],
    } = await createSellable(system, 'Rare kettle', [{ sku: 'RARE', price: 80, initialStock: 5 }]);
    const placed = await Promise.all(Array.from({ length: 20 }, (_, i) => placeOrder(system, `racer-${i}`, [{ variantId: v!, quantity: 1 }])));
    const orders = await Promise.all(placed.map((p) => settle(system, p.body.orderId)));
    expect(orders.filter((o) => o.status === 'CONFIRMED')).to.have.length(5);
    expect(orders.filter((o) => o.status === 'REJECTED')).to.have.length(15);
    expect(await stock(system, v!)).to.include({ quantity: 5, reservedQuantity: 5, availableQuantity: 0 });
  });

  it('returns the same order for the same Idempotency-Key, and refuses the key for another request', async () => {
    const {
      variantIds: [v],
    } = await createSellable(system, 'Mat', [{ sku: 'MAT', price: 20, initialStock: 10 }]);
    const first = await placeOrder(system, 'dave', [{ variantId: v!, quantity: 2 }], 'key-1');
    expect(first.status).to.equal(202);
    const again = await placeOrder(system, 'dave', [{ variantId: v!, quantity: 2 }], 'key-1');
    // The first answer placed the order (202); the same request again answers with the order as it stands.
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.body.orderId).to.equal(first.body.orderId);
    expect(again.body.items).to.have.length(1);
    expect(again.headers.get('location')).to.equal(`/api/v1/orders/${first.body.orderId}`);
    await settle(system, first.body.orderId);
    expect(await stock(system, v!)).to.include({ reservedQuantity: 2 });
    const other = await placeOrder(system, 'dave', [{ variantId: v!, quantity: 3 }], 'key-1');
    expect(other.status).to.equal(409);
    expect(other.body.error).to.equal('IDEMPOTENCY_CONFLICT');
    const missingKey = await call(system.order.base, 'POST', '/api/v1/orders', { customerId: 'dave', items: [{ variantId: v, quantity: 1 }] });
    expect(missingKey.status).to.equal(400);
    expect(missingKey.body.message).to.match(/header.idempotency-key is required/);
  });

  it('refuses unknown and discontinued variants and quantities under 1, naming the line', async () => {
    const {
      productId,
      variantIds: [v],
    } = await createSellable(system, 'Old chair', [{ sku: 'CHAIR', price: 60, initialStock: 3 }]);
    const unknown = await placeOrder(system, 'erin', [
      { variantId: v!, quantity: 1 },
      { variantId: 'no-such-variant', quantity: 1 },
    ]);
    expect(unknown.status).to.equal(422);
    expect(unknown.body).to.include({ error: 'INVALID_ORDER', message: 'items[1]: unknown variant no-such-variant' });
    const zero = await placeOrder(system, 'erin', [{ variantId: v!, quantity: 0 }]);
    expect(zero.status).to.equal(400);
    expect(zero.body.message).to.equal('body.items.0.quantity must be >= 1');
    await call(system.product.base, 'POST', `/api/v1/products/${productId}/discontinue`, { reason: 'no longer made' });
    await eventually(async () => {
      const discontinued = await placeOrder(system, 'erin', [{ variantId: v!, quantity: 1 }]);
      expect(discontinued.status).to.equal(422);
      expect(discontinued.body.message).to.equal(`items[0]: variant ${v} (CHAIR) is discontinued`);
    });
  });

  it('flags open orders when a product is discontinued', async () => {
    const {
      productId,
      variantIds: [v],
    } = await createSellable(system, 'Hammock', [{ sku: 'HAMMOCK', price: 45, initialStock: 5 }]);
    const placed = await placeOrder(system, 'frank', [{ variantId: v!, quantity: 1 }]);
    await settle(system, placed.body.orderId);
    await call(system.product.base, 'POST', `/api/v1/products/${productId}/discontinue`);
    const flagged = await eventually(async () => {
      const o = await call(system.order.base, 'GET', `/api/v1/orders/${placed.body.orderId}`);
      expect(o.body.flags).to.deep.equal([`variant ${v} (HAMMOCK) was discontinued while the order was open`]);
      return o.body;
    });
    expect(flagged.status).to.equal('CONFIRMED');
  });

  it('long-polls until the order reaches a status, and returns at the timeout otherwise', async () => {
    const {
      variantIds: [v],
    } = await createSellable(system, 'Pillow', [{ sku: 'PILLOW', price: 15, initialStock: 5 }]);
    const placed = await placeOrder(system, 'gina', [{ variantId: v!, quantity: 1 }]);
    const confirmed = await call(system.order.base, 'GET', `/api/v1/orders/${placed.body.orderId}?waitFor=CONFIRMED&timeoutMs=20000`);
    expect(confirmed.body.status).to.equal('CONFIRMED');
    const started = Date.now();
    const timedOut = await call(system.order.base, 'GET', `/api/v1/orders/${placed.body.orderId}?waitFor=PAID&timeoutMs=300`);
    expect(timedOut.status).to.equal(200);
    expect(timedOut.body.status).to.equal('CONFIRMED');
    expect(Date.now() - started).to.be.within(250, 3000);
    const bad = await call(system.order.base, 'GET', `/api/v1/orders/${placed.body.orderId}?waitFor=SHIPPED`);
    expect(bad.status).to.equal(400);
  });
});
