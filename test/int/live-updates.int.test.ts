// Live updates (server-sent events) end to end, on the real broker, read with a
// real EventSource client: an order's stream from PENDING to its settling, a
// variant's stock stream, resuming with Last-Event-ID, any instance serving any
// stream, the per-instance cap, and no watcher left behind.
import { expect } from 'chai';
import { EventSource } from 'eventsource';
import { inventoryService } from '../../services/inventory/main.ts';
import type { StockEvent } from '../../services/inventory/http/live.ts';
import type { OrderStatusEvent } from '../../services/order/http/live.ts';
import { orderService } from '../../services/order/main.ts';
import { adminToken, testAuth } from '../support/auth.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call } from '../support/http.ts';
import { startInProcess, type StartedService } from '../support/services.ts';
import { createSellable, placeOrder, settle, startSystem, type System } from '../support/system.ts';

interface Received<T> {
  id: string;
  event: string;
  data: T;
}

/** An EventSource with a bearer token (and, on its first request only, a Last-Event-ID), recording what it got. */
function watch<T>(url: string, names: string[], options: { lastEventId?: string; token?: string } = {}) {
  const events: Received<T>[] = [];
  const requests: { lastEventId: string | undefined; status: number }[] = [];
  const errors: { code: number | undefined; message: string | undefined }[] = [];
  const source = new EventSource(url, {
    fetch: async (input, init) => {
      // EventSource sends Last-Event-ID itself once it has had an event.
      const headers: Record<string, string> = { ...init.headers, authorization: `Bearer ${options.token ?? adminToken}` };
      if (requests.length === 0 && options.lastEventId !== undefined) headers['Last-Event-ID'] = options.lastEventId;
      const res = await fetch(input, { ...init, headers });
      requests.push({ lastEventId: headers['Last-Event-ID'], status: res.status });
      return res;
    },
  });
  for (const name of names) {
    source.addEventListener(name, (e) => {
      if (e instanceof MessageEvent) events.push({ id: e.lastEventId, event: name, data: JSON.parse(String(e.data)) });
    });
  }
  source.addEventListener('error', (e) =>
    errors.push({ code: 'code' in e && typeof e.code === 'number' ? e.code : undefined, message: 'message' in e && typeof e.message === 'string' ? e.message : undefined }),
  );
  return { source, events, requests, errors };
}

async function openStreams(service: StartedService): Promise<number> {
  const text = (await call<string>(service.base, 'GET', '/metrics')).body;
  return Number(/^http_live_streams\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? NaN);
}

describe('live updates over server-sent events (real broker, EventSource)', function () {
  this.timeout(300_000);
  let env: TestEnvironment;
  let system: System;
  let inventoryProcessor: StartedService | undefined;
  let secondOrderApi: StartedService | undefined;
  const sources: EventSource[] = [];
  const track = <T extends { source: EventSource }>(w: T) => (sources.push(w.source), w);
  const startInventoryProcessor = async () => {
    inventoryProcessor = await startInProcess(inventoryService, env.prefix, { SERVICE_ROLES: 'processor' });
  };

  before(async () => {
    env = await provision('live-updates');
    // Inventory's processor runs apart from its API, so that a test can hold
    // an order's saga PENDING by stopping it.
    system = await startSystem(env.prefix, {}, { inventory: { SERVICE_ROLES: 'api' }, order: { ORDER_SAGA_TIMEOUT_MS: '120000' } });
    await startInventoryProcessor();
  });
  afterEach(() => {
    for (const s of sources.splice(0)) s.close();
  });
  after(async () => {
    await secondOrderApi?.stop();
    await inventoryProcessor?.stop();
    await system?.stop();
    await env.close();
  });

  it("streams an order from PENDING until it settles, and a variant's stock as it is reserved and sold", async () => {
    const {
      variantIds: [v],
    } = await createSellable(system, 'Lantern', [{ sku: 'LANTERN', price: 25, initialStock: 10 }]);
    const stock = track(watch<StockEvent>(`${system.inventory.base}/api/v1/inventory/${v}/events`, ['stock']));
    await eventually(() => expect(stock.events).to.have.length(1), 20_000);
    expect(stock.events[0]!.data).to.include({ productVariantId: v, quantity: 10, reservedQuantity: 0, availableQuantity: 10, version: Number(stock.events[0]!.id) });

    // With inventory's processor stopped, the order stays PENDING.
    await inventoryProcessor!.stop();
    inventoryProcessor = undefined;
    const placed = await placeOrder(system, 'lena', [{ variantId: v!, quantity: 2 }]);
    expect(placed.body).to.include({ status: 'PENDING' });
    const url = `${system.order.base}/api/v1/orders/${placed.body.orderId}/events`;
    const order = track(watch<OrderStatusEvent>(url, ['status']));
    await eventually(() => expect(order.events).to.have.length(1), 20_000);
    const pending = order.events[0]!;
    expect(pending.data).to.include({ orderId: placed.body.orderId, type: 'Snapshot', status: 'PENDING', settled: false });
    expect(pending.id).to.equal(String(pending.data.version));
    // A client that already had PENDING gets nothing until the next change.
    const resumed = track(watch<OrderStatusEvent>(url, ['status'], { lastEventId: pending.id }));
    await eventually(() => expect(resumed.requests).to.deep.equal([{ lastEventId: pending.id, status: 200 }]), 20_000);

    await startInventoryProcessor();
    await eventually(() => expect(order.events.map((e) => e.data.status)).to.deep.equal(['PENDING', 'CONFIRMED']), 60_000);
    const confirmed = order.events[1]!;
    expect(confirmed.data).to.include({ type: 'OrderConfirmed', settled: false });
    expect(Number(confirmed.id)).to.be.above(Number(pending.id));
    await eventually(() => expect(resumed.events.map((e) => [e.id, e.data.status])).to.deep.equal([[confirmed.id, 'CONFIRMED']]), 20_000);
    // Sent once the read models applied it: a read now sees at least as much.
    expect((await call(system.order.base, 'GET', `/api/v1/orders/${placed.body.orderId}`)).body).to.include({ status: 'CONFIRMED' });
    await eventually(() => expect(stock.events.at(-1)?.data).to.include({ quantity: 10, reservedQuantity: 2, availableQuantity: 8 }), 20_000);

    expect((await call(system.order.base, 'POST', `/api/v1/orders/${placed.body.orderId}/pay`)).body.status).to.equal('PAID');
    await eventually(() => expect(order.events.map((e) => e.data.status)).to.deep.equal(['PENDING', 'CONFIRMED', 'PAID']), 20_000);
    const paid = order.events[2]!;
    expect(paid.data).to.include({ type: 'OrderPaid', settled: true });
    // The stream ended; EventSource came back with the last id it had and was told 204: it stops.
    await eventually(
      () =>
        expect(order.requests).to.deep.equal([
          { lastEventId: undefined, status: 200 },
          { lastEventId: paid.id, status: 204 },
        ]),
      20_000,
    );
    expect(order.source.readyState).to.equal(EventSource.CLOSED);
    expect(order.events).to.have.length(3);
    await eventually(() => expect(stock.events.at(-1)?.data).to.include({ quantity: 8, reservedQuantity: 0, availableQuantity: 8 }), 20_000);
    const ids = stock.events.map((e) => Number(e.id));
    expect(ids).to.deep.equal([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).to.equal(ids.length);

    // A client that goes away is forgotten at once.
    expect(await openStreams(system.inventory)).to.equal(1);
    stock.source.close();
    await eventually(async () => expect(await openStreams(system.inventory)).to.equal(0), 10_000);
    await eventually(async () => expect(await openStreams(system.order)).to.equal(0), 10_000);
  });

  it('resumes from Last-Event-ID: only what is newer, and 204 to a client that had the end', async () => {
    const {
      variantIds: [v],
    } = await createSellable(system, 'Rare lamp', [{ sku: 'RARE-LAMP', price: 90, initialStock: 1 }]);
    const placed = await placeOrder(system, 'mia', [{ variantId: v!, quantity: 3 }]);
    const rejected = await settle(system, placed.body.orderId);
    expect(rejected.status).to.equal('REJECTED');
    const url = `${system.order.base}/api/v1/orders/${placed.body.orderId}/events`;

    const behind = track(watch<OrderStatusEvent>(url, ['status'], { lastEventId: '1' }));
    await eventually(() => expect(behind.source.readyState).to.equal(EventSource.CLOSED), 20_000);
    expect(behind.events.map((e) => [e.id, e.data])).to.deep.equal([
      [String(rejected.version), { orderId: placed.body.orderId, type: 'Snapshot', status: 'REJECTED', version: rejected.version, settled: true, reason: 'INSUFFICIENT_STOCK' }],
    ]);
    expect(behind.requests).to.deep.equal([
      { lastEventId: '1', status: 200 },
      { lastEventId: String(rejected.version), status: 204 },
    ]);

    const upToDate = track(watch<OrderStatusEvent>(url, ['status'], { lastEventId: String(rejected.version) }));
    await eventually(() => expect(upToDate.errors.map((e) => e.code)).to.deep.equal([204]), 20_000);
    expect(upToDate.events).to.deep.equal([]);
    expect(upToDate.source.readyState).to.equal(EventSource.CLOSED);
  });

  it('answers JSON to an unknown order or variant and to callers without the scope; documents the streams', async () => {
    const unknown = await call(system.order.base, 'GET', '/api/v1/orders/no-such-order/events');
    expect(unknown.status).to.equal(404);
    expect(unknown.body).to.include({ error: 'NOT_FOUND' });
    expect((await call(system.inventory.base, 'GET', '/api/v1/inventory/no-such-variant/events')).status).to.equal(404);
    expect((await call(system.order.base, 'GET', '/api/v1/orders/no-such-order/events', undefined, { authorization: '' })).status).to.equal(401);
    const product = `Bearer ${await testAuth.tokenFor('product-service')}`;
    const forbidden = await call(system.order.base, 'GET', '/api/v1/orders/no-such-order/events', undefined, { authorization: product });
    expect(forbidden.status).to.equal(403);
    expect(forbidden.body).to.include({ error: 'FORBIDDEN', requiredScope: 'orders:read' });

    const doc = (await call(system.order.base, 'GET', '/openapi.json')).body;
    const operation = doc.paths['/api/v1/orders/{id}/events'].get;
    expect(operation.security).to.deep.equal([{ bearerAuth: ['orders:read'] }]);
    expect(operation.responses['200'].content).to.have.property('text/event-stream');
    expect(operation.responses['503'].description).to.match(/TOO_MANY_STREAMS/);
    expect(operation.parameters.map((p: { name: string }) => p.name)).to.deep.equal(['id', 'Last-Event-ID']);
    expect((await call(system.inventory.base, 'GET', '/openapi.json')).body.paths['/api/v1/inventory/{variantId}/events'].get.security).to.deep.equal([{ bearerAuth: ['inventory:read'] }]);
  });

  it('serves a stream from any instance, refuses streams past its cap with 503 and Retry-After, and frees the slot when the client leaves', async () => {
    const {
      variantIds: [v],
    } = await createSellable(system, 'Tarp', [{ sku: 'TARP', price: 15, initialStock: 10 }]);
    const placed = await placeOrder(system, 'noah', [{ variantId: v!, quantity: 1 }]);
    expect((await settle(system, placed.body.orderId)).status).to.equal('CONFIRMED');
    secondOrderApi = await startInProcess(orderService, env.prefix, { SERVICE_ROLES: 'api', SSE_MAX_CONNECTIONS: '1' });
    const url = `${secondOrderApi.base}/api/v1/orders/${placed.body.orderId}/events`;

    const first = track(watch<OrderStatusEvent>(url, ['status']));
    await eventually(() => expect(first.events.map((e) => e.data.status)).to.deep.equal(['CONFIRMED']), 30_000);
    const refused = await call(secondOrderApi.base, 'GET', `/api/v1/orders/${placed.body.orderId}/events`);
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('retry-after')).to.match(/^[0-9]+$/);
    expect(refused.body).to.include({ error: 'TOO_MANY_STREAMS', limit: 1 });
    expect(await openStreams(secondOrderApi)).to.equal(1);

    first.source.close();
    await eventually(async () => expect(await openStreams(secondOrderApi!)).to.equal(0), 10_000);
    const second = track(watch<OrderStatusEvent>(url, ['status']));
    await eventually(() => expect(second.events).to.have.length(1), 20_000);
    // Cancelled through the other instance: this one's read models see it, and so does its stream.
    await call(system.order.base, 'POST', `/api/v1/orders/${placed.body.orderId}/cancel`, { reason: 'changed my mind' });
    await eventually(
      () =>
        expect(second.events.map((e) => [e.data.status, e.data.settled, e.data.reason])).to.deep.equal([
          ['CONFIRMED', false, undefined],
          ['CANCELLED', true, 'changed my mind'],
        ]),
      20_000,
    );
    await eventually(() => expect(second.source.readyState).to.equal(EventSource.CLOSED), 20_000);
    expect(await openStreams(secondOrderApi)).to.equal(0);
  });
});
