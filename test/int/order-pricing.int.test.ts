// Pricing at placement (seed 004): every line from the product service's latest
// data when it answers in time, else from the order service's own copy of the
// catalogue, each line saying which; ordering does not fail because the copy
// lags; the details request-reply sits behind a circuit breaker.
import { expect } from 'chai';
import { orderServiceWith } from '../../services/order/main.ts';
import { orderReadModels } from '../../services/order/read-models.ts';
import { productService } from '../../services/product/main.ts';
import type { Topics } from '../../services/topics.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { call } from '../support/http.ts';
import { startInProcess, type StartedService } from '../support/services.ts';
import { createSellable, placeOrder, settle, startSystem, type System } from '../support/system.ts';

describe('pricing an order at placement (real broker, three services)', function () {
  this.timeout(240_000);
  let env: TestEnvironment;
  let system: System;
  // A short policy, so a silent product service is noticed quickly and two failed attempts open the circuit.
  const policy = { PRODUCT_DETAILS_TIMEOUT_MS: '400', PRODUCT_DETAILS_ATTEMPTS: '2', PRODUCT_DETAILS_BREAK_AFTER: '2', PRODUCT_DETAILS_HALF_OPEN_MS: '600000' };

  before(async () => {
    env = await provision('pricing');
    system = await startSystem(env.prefix, policy);
  });
  after(async () => {
    await system?.stop();
    await env.close();
  });

  const sources = (order: { items: { priceSource: string }[] }) => order.items.map((i) => i.priceSource);

  it('prices every line from the product service when it answers', async () => {
    const {
      variantIds: [a],
    } = await createSellable(system, 'Lantern', [{ sku: 'LANTERN', price: 30, initialStock: 10 }]);
    const placed = await placeOrder(system, 'erin', [{ variantId: a!, quantity: 1 }]);
    expect(placed.status, JSON.stringify(placed.body)).to.equal(202);
    const order = await settle(system, placed.body.orderId);
    expect(order).to.include({ status: 'CONFIRMED', total: 30 });
    expect(sources(order)).to.deep.equal(['PRODUCT_SERVICE']);
    expect(order.notes ?? []).to.deep.equal([]);
  });

  it('orders a variant its catalogue copy does not know yet, priced by the product service; refuses one nobody knows', async () => {
    const {
      variantIds: [a],
    } = await createSellable(system, 'Stove', [{ sku: 'STOVE', price: 45.5, initialStock: 10 }]);
    // An order service whose catalogue copy reads another namespace's empty
    // product.events: a copy that lags forever.
    const empty = await provision('empty-catalogue');
    let laggingOrder: StartedService | undefined;
    try {
      const lagging = (topics: Topics) => orderReadModels({ ...topics, productEvents: empty.topics.productEvents });
      laggingOrder = await startInProcess(orderServiceWith(lagging), env.prefix, policy);
      const placed = await call(laggingOrder.base, 'POST', '/api/v1/orders', { customerId: 'frank', items: [{ variantId: a!, quantity: 2 }] }, { 'idempotency-key': 'lagging-1' });
      expect(placed.status, JSON.stringify(placed.body)).to.equal(202);
      const order = await settle({ ...system, order: laggingOrder }, placed.body.orderId);
      expect(order).to.include({ status: 'CONFIRMED', total: 91 });
      expect(sources(order)).to.deep.equal(['PRODUCT_SERVICE']);

      const unknown = await call(
        laggingOrder.base,
        'POST',
        '/api/v1/orders',
        {
          customerId: 'frank',
          items: [
            { variantId: a!, quantity: 1 },
            { variantId: 'no-such-variant', quantity: 1 },
          ],
        },
        { 'idempotency-key': 'lagging-2' },
      );
      expect(unknown.status, JSON.stringify(unknown.body)).to.equal(422);
      expect(unknown.body).to.include({ error: 'INVALID_ORDER', message: 'items[1]: unknown variant no-such-variant' });
    } finally {
      await laggingOrder?.stop();
      await empty.close();
    }
  });

  it('with the product service silent, prices from its copy, says so, and opens the circuit', async () => {
    const {
      variantIds: [a],
    } = await createSellable(system, 'Kettle', [{ sku: 'KETTLE', price: 12, initialStock: 10 }]);
    await system.product.stop();
    try {
      const placed: string[] = [];
      for (const key of ['silent-1', 'silent-2', 'silent-3']) {
        const res = await placeOrder(system, 'gina', [{ variantId: a!, quantity: 1 }], key);
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        placed.push(res.body.orderId);
      }
      for (const id of placed) {
        const order = await settle(system, id);
        expect(order.status).to.equal('CONFIRMED');
        expect(sources(order)).to.deep.equal(['CATALOGUE_COPY']);
        expect(order.notes.join(' ')).to.match(/priced from the order service's catalogue copy: the product service did not answer in time/);
      }
      const metrics = (await (await fetch(`${system.order.base}/metrics`)).text()).split('\n');
      const sample = (prefix: string) =>
        metrics.filter((l) => l.startsWith(prefix) && l.includes('dependency="product-details"')).map((l) => l.replace(/\{.*?outcome="([^"]+)".*\}/, ' $1').replace(/\{.*\}/, ''));
      // The first call's two attempts timed out, which opened the circuit (it
      // counts failed attempts); the next two were answered at once by the open
      // circuit. (The one answered call is the first test's.)
      expect(sample('circuit_breaker_state')).to.deep.equal(['circuit_breaker_state 1']);
      expect(sample('dependency_call_seconds_count').sort()).to.deep.equal([
        'dependency_call_seconds_count circuit-open 2',
        'dependency_call_seconds_count ok 1',
        'dependency_call_seconds_count timeout 1',
      ]);
    } finally {
      system.product = await startInProcess(productService, env.prefix, { INVENTORY_URL: system.inventory.base });
    }
  });
});
