// The order service's processor (which drives the checkout saga) killed with
// SIGKILL in the middle of many sagas and restarted: every saga completes or
// compensates, and no reserved unit is left behind.
import { expect } from 'chai';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call } from '../support/http.ts';
import { startChild, type ChildService } from '../support/child-service.ts';
import { createSellable, placeOrder, settle, startSystem, stock, type System } from '../support/system.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('checkout sagas survive the order processor being killed', function () {
  this.timeout(300_000);
  let env: TestEnvironment;
  let system: System;
  const children: ChildService[] = [];
  const startProcessor = () => {
    const child = startChild('services/order/main.ts', { TOPIC_PREFIX: env.prefix, SERVICE_ROLES: 'processor', ORDER_SAGA_TIMEOUT_MS: '20000' }, 'order-processor');
    children.push(child);
    return child;
  };

  before(async () => {
    env = await provision('saga-crash');
    system = await startSystem(env.prefix, {}, { order: { SERVICE_ROLES: 'api' } });
  });
  after(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await system?.stop();
    await env.close();
  });

  it('completes or compensates every saga, leaking no reservation', async () => {
    let processor = startProcessor();
    const { variantIds } = await createSellable(system, 'Crash kit', [
      { sku: 'CK-A', price: 10, initialStock: 20 },
      { sku: 'CK-B', price: 20, initialStock: 8 },
      { sku: 'CK-C', price: 30, initialStock: 30 },
    ]);
    const [a, b, c] = variantIds as [string, string, string];
    await processor.waitForOutput(/order\.commands".*partitions prepared/);
    const ids: string[] = [];
    const placing = (async () => {
      for (let i = 0; i < 40; i++) {
        const items =
          i % 3 === 0
            ? [
                { variantId: a, quantity: 2 },
                { variantId: b, quantity: 1 },
              ]
            : i % 3 === 1
              ? [
                  { variantId: b, quantity: 1 },
                  { variantId: c, quantity: 3 },
                ]
              : [{ variantId: c, quantity: 1 }];
        ids.push((await placeOrder(system, `customer-${i}`, items)).body.orderId);
        await sleep(50);
      }
      return ids;
    })();
    // Kill it twice while sagas are in flight: once a third of the orders are in,
    // and again (after it took over) at two thirds.
    let kills = 0;
    for (const at of [13, 27]) {
      while (ids.length < at) await sleep(20);
      await processor.kill('SIGKILL');
      kills++;
      processor = startProcessor();
      await processor.waitForOutput(/order\.commands".*partitions prepared/, 60_000);
    }
    expect(kills).to.equal(2);
    const orderIds = await placing;
    const orders = await Promise.all(orderIds.map((id) => settle(system, id)));
    expect(orders.map((o) => o.status).every((s) => s === 'CONFIRMED' || s === 'REJECTED')).to.equal(true);

    // Held stock is exactly what confirmed orders hold, once the compensations have run.
    const held = (variantId: string) =>
      orders
        .filter((o) => o.status === 'CONFIRMED')
        .flatMap((o) => o.items)
        .filter((i: { variantId: string }) => i.variantId === variantId)
        .reduce((n: number, i: { quantity: number }) => n + i.quantity, 0);
    await eventually(async () => {
      for (const v of [a, b, c]) {
        const s = await stock(system, v);
        expect(s.reservedQuantity, `reserved of ${v}`).to.equal(held(v));
        expect(s.availableQuantity).to.be.at.least(0);
      }
    }, 60_000);
    for (const o of orders.filter((x) => x.status === 'REJECTED')) {
      const allocations = await call(system.inventory.base, 'GET', `/api/v1/allocations/by-order/${o.orderId}`);
      expect(
        allocations.body.reservations.filter((r: { status: string }) => r.status === 'RESERVED'),
        `order ${o.orderId}`,
      ).to.deep.equal([]);
    }
    expect(orders.filter((o) => o.status === 'CONFIRMED').length).to.be.greaterThan(0);
  });
});
