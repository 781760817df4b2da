// Past the knee the system sheds load instead of queueing it: placements are
// refused at once with 503 and Retry-After while too many sagas are open, and
// every order that was accepted still concludes. (Behaviour, not timings: the
// knee itself is measured by npm run bench -- flash-sale.)
import { expect } from 'chai';
import { inventoryService } from '../../services/inventory/main.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { call } from '../support/http.ts';
import { startInProcess } from '../support/services.ts';
import { createSellable, placeOrder, settle, startSystem, type System } from '../support/system.ts';

describe('overload: shedding placements past the open-saga limit (real broker)', function () {
  this.timeout(240_000);
  let env: TestEnvironment;
  let system: System;

  before(async () => {
    env = await provision('overload');
    system = await startSystem(env.prefix, { ORDER_MAX_OPEN_SAGAS: '3', ORDER_SAGA_TIMEOUT_MS: '120000' });
  });
  after(async () => {
    await system?.stop();
    await env.close();
  });

  it('refuses placements with 503 and Retry-After while sagas pile up, and every accepted order still concludes', async () => {
    const {
      variantIds: [v],
    } = await createSellable(system, 'Headlamp', [{ sku: 'OVER-1', price: 25, initialStock: 100 }]);
    // Inventory's processor goes away (its API stays): reservations wait, sagas stay open.
    await system.inventory.stop();
    system.inventory = await startInProcess(inventoryService, env.prefix, { SERVICE_ROLES: 'api' });

    const answers: { status: number; orderId?: string; retryAfter: string | null; error?: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await placeOrder(system, `burst-${i}`, [{ variantId: v!, quantity: 1 }]);
      answers.push({ status: res.status, orderId: res.body.orderId, retryAfter: res.headers.get('retry-after'), error: res.body.error });
    }
    const accepted = answers.filter((a) => a.status === 202);
    const shed = answers.filter((a) => a.status === 503);
    expect(accepted.length + shed.length, JSON.stringify(answers)).to.equal(answers.length);
    expect(accepted).to.have.length(3);
    expect(shed).to.have.length(5);
    for (const refusal of shed) expect(refusal).to.include({ error: 'OVERLOADED', retryAfter: '1' });
    const metrics = (await call(system.order.base, 'GET', '/metrics')).body as string;
    expect(metrics).to.match(/^http_requests_shed_total\{reason="open-sagas",service="order"\} 5$/m);

    // Inventory decides again: every accepted order concludes, and placements are accepted again.
    const processor = await startInProcess(inventoryService, env.prefix, { SERVICE_ROLES: 'processor' });
    try {
      for (const a of accepted) expect((await settle(system, a.orderId!)).status).to.equal('CONFIRMED');
      const again = await placeOrder(system, 'after-the-burst', [{ variantId: v!, quantity: 1 }]);
      expect(again.status, JSON.stringify(again.body)).to.equal(202);
      expect((await settle(system, again.body.orderId)).status).to.equal('CONFIRMED');
    } finally {
      await processor.stop();
    }
  });
});
