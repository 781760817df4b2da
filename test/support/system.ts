// The three services together under one namespace, plus helpers to drive them
// the way a user would: create products over HTTP, wait for them to sell, order.
import { expect } from 'chai';
import { inventoryService } from '../../services/inventory/main.ts';
import { orderService } from '../../services/order/main.ts';
import { productService } from '../../services/product/main.ts';
import { connectAdminFor } from '../../services/platform/kafka/admin.ts';
import { loadConfig } from '../../services/platform/config.ts';
import { eventually } from './eventually.ts';
import { call } from './http.ts';
import { startInProcess, type StartedService } from './services.ts';

export interface System {
  product: StartedService;
  inventory: StartedService;
  order: StartedService;
  stop(): Promise<void>;
}

/** `env` goes to every service, `perService` to one (e.g. its SERVICE_ROLES). */
export async function startSystem(prefix: string, env: Record<string, string> = {}, perService: Partial<Record<'inventory' | 'product' | 'order', Record<string, string>>> = {}): Promise<System> {
  const inventory = await startInProcess(inventoryService, prefix, { ...env, ...perService.inventory });
  const product = await startInProcess(productService, prefix, { INVENTORY_URL: inventory.base, ...env, ...perService.product });
  const order = await startInProcess(orderService, prefix, { ...env, ...perService.order });
  return {
    product,
    inventory,
    order,
    async stop() {
      await order.stop();
      await product.stop();
      await inventory.stop();
    },
  };
}

/** Creates a product over HTTP and waits until every variant sells (ACTIVE, in the order service's snapshot too). */
export async function createSellable(system: System, name: string, variants: { sku: string; price: number; initialStock?: number }[]): Promise<{ productId: string; variantIds: string[] }> {
  const res = await call(system.product.base, 'POST', '/api/v1/products', { name, category: 'test', currency: 'EUR', variants });
  // 202: accepted, decided later than the request waits (a busy processor).
  expect(res.status, JSON.stringify(res.body)).to.be.oneOf([201, 202]);
  let variantIds: string[] = [];
  await eventually(async () => {
    const p = await call(system.product.base, 'GET', `/api/v1/products/${res.body.id}`);
    expect(p.status, 'product created').to.equal(200);
    expect(
      p.body.variants.every((v: { status: string }) => v.status === 'ACTIVE'),
      'variants active',
    ).to.equal(true);
    variantIds = (p.body.variants as { id: string }[]).map((v) => v.id);
  }, 60_000);
  // The order service prices lines from its own view of the catalogue.
  await caughtUp(system.order, 'product.events');
  return { productId: res.body.id, variantIds };
}

/** Waits until a service's read models have read a topic as far as it goes now. */
export async function caughtUp(service: StartedService, baseTopic: string): Promise<void> {
  const config = loadConfig({ ...process.env, TOPIC_PREFIX: service.service.context.config.topicPrefix });
  const admin = await connectAdminFor(config, 'test-caught-up');
  const ends = await admin.fetchTopicOffsets(`${config.topicPrefix}${baseTopic}`).finally(() => admin.disconnect());
  await eventually(async () => {
    const ready = await call(service.base, 'GET', '/health/ready');
    for (const end of ends) expect(BigInt(ready.body.positions?.[baseTopic]?.[end.partition] ?? '0') >= BigInt(end.high), `${baseTopic}[${end.partition}]`).to.equal(true);
  }, 30_000);
}

export async function placeOrder(system: System, customerId: string, items: { variantId: string; quantity: number }[], key: string = crypto.randomUUID()) {
  return call(system.order.base, 'POST', '/api/v1/orders', { customerId, items }, { 'idempotency-key': key });
}

export async function settle(system: System, orderId: string, statuses = 'CONFIRMED,REJECTED') {
  const res = await call(system.order.base, 'GET', `/api/v1/orders/${orderId}?waitFor=${statuses}&timeoutMs=20000`);
  expect(statuses.split(','), JSON.stringify(res.body)).to.include(res.body.status);
  return res.body;
}

export async function stock(system: System, variantId: string) {
  return (await call(system.inventory.base, 'GET', `/api/v1/inventory/${variantId}`)).body as { quantity: number; reservedQuantity: number; availableQuantity: number; status: string };
}
