// The inventory service end to end over HTTP, on the real broker: variants
// arrive as catalogue events, reservations race, read models agree with the log.
import { expect } from 'chai';
import { inventoryService } from '../../services/inventory/main.ts';
import { newId, toHeaders } from '../../services/platform/headers.ts';
import { createCodec, type Codec } from '../../services/platform/schemas/codec.ts';
import type { ProductEvents } from '../../schemas/generated/product.events.ts';
import type { TopicMessage } from '../../services/platform/topics.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { readEvents } from '../support/events.ts';
import { call } from '../support/http.ts';
import { kafkaFor } from '../support/kafka.ts';
import { startInProcess, type StartedService } from '../support/services.ts';

describe('inventory over HTTP (real broker)', function () {
  this.timeout(180_000);
  let env: TestEnvironment;
  let codec: Codec;
  let inventory: StartedService;
  let productVersion = 0;

  /** Publishes catalogue events as the product service would. */
  async function publish(events: TopicMessage<ProductEvents>[]) {
    const producer = kafkaFor(env.config).producer({ idempotent: true });
    await producer.connect();
    const messages = await Promise.all(
      events.map(async (e) => ({
        key: String((e.data as { productId: string }).productId),
        value: codec.encode(env.topics.productEvents, e),
        headers: toHeaders({ id: newId(), type: codec.fullName(env.topics.productEvents, e.type), source: 'test', time: Date.now(), correlationId: newId() }),
      })),
    );
    await producer.send({ topic: env.topics.productEvents.name, acks: -1, messages });
    await producer.disconnect();
  }

  async function createVariant(variantId: string, initialStock: number | null, priceMinor = 1250, lowStockThreshold: number | null = 5) {
    await publish([
      {
        type: 'ProductVariantCreated',
        data: {
          productId: 'prod-1',
          version: ++productVersion,
          occurredAt: Date.now(),
          variantId,
          sku: `SKU-${variantId}`,
          priceMinor,
          currency: 'EUR',
          attributes: {},
          initialStock,
          lowStockThreshold,
        },
      },
    ]);
    await eventually(async () => expect((await call(inventory.base, 'GET', `/api/v1/inventory/${variantId}`)).status).to.equal(200), 30_000);
  }

  before(async () => {
    env = await provision('inventory-http');
    codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [env.topics.productEvents] });
    inventory = await startInProcess(inventoryService, env.prefix);
  });
  after(async () => {
    await inventory?.stop();
    await env.close();
  });

  it('creates the stock record from ProductVariantCreated and serves the stock view', async () => {
    await createVariant('v-view', 20);
    const { status, body } = await call(inventory.base, 'GET', '/api/v1/inventory/v-view');
    expect(status).to.equal(200);
    expect(body).to.include({ productVariantId: 'v-view', sku: 'SKU-v-view', quantity: 20, reservedQuantity: 0, availableQuantity: 20, status: 'IN_STOCK', lowStockThreshold: 5, version: 1 });
    expect(Date.parse(body.updatedAt)).to.be.a('number');
    const many = await call(inventory.base, 'GET', '/api/v1/inventory?productVariantIds=v-view,nope');
    expect(many.body.map((v: { productVariantId: string }) => v.productVariantId)).to.deep.equal(['v-view']);
  });

  it('(a) 50 in stock, 500 concurrent reservations of 1 from several clients: exactly 50 succeed, the view and the log agree', async () => {
    await createVariant('v-race', 50);
    const results: number[] = [];
    const clients = 10;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; i < 500 / clients; i++) {
          const res = await call(inventory.base, 'POST', '/api/v1/inventory/v-race/reserve', { quantity: 1, reservationId: `c${c}-${i}` });
          results.push(res.status);
          if (res.status === 409) expect(res.body).to.include({ error: 'INSUFFICIENT_STOCK', availableQuantity: 0 });
        }
      }),
    );
    expect(results.filter((s) => s === 200)).to.have.length(50);
    expect(results.filter((s) => s === 409)).to.have.length(450);

    const view = await call(inventory.base, 'GET', '/api/v1/inventory/v-race');
    expect(view.body).to.include({ quantity: 50, reservedQuantity: 50, availableQuantity: 0, status: 'OUT_OF_STOCK' });

    const events = (
      await readEvents(env.config, codec, env.topics.inventoryEvents, (all) => all.filter((e) => e.key === 'v-race' && (e.type === 'StockReserved' || e.type === 'ReservationRejected')).length >= 500)
    ).filter((e) => e.key === 'v-race');
    expect(events.filter((e) => e.type === 'StockReserved')).to.have.length(50);
    // (b) versions of the variant run 1..n with no gap and no repeat
    const versions = events.flatMap((e) => ('version' in e.data ? [e.data.version] : []));
    expect(versions).to.deep.equal(versions.map((_, i) => i + 1));
    expect(view.body.version).to.equal(versions.length);
  });

  it('answers a repeated reservationId with its first outcome and no second effect', async () => {
    await createVariant('v-idem', 3);
    const first = await call(inventory.base, 'POST', '/api/v1/inventory/v-idem/reserve', { quantity: 2, reservationId: 'same', orderId: 'o-1' });
    expect(first.status).to.equal(200);
    expect(first.body).to.include({ reservationId: 'same', status: 'RESERVED', availableQuantity: 1 });
    const again = await call(inventory.base, 'POST', '/api/v1/inventory/v-idem/reserve', { quantity: 2, reservationId: 'same', orderId: 'o-1' });
    expect(again.status).to.equal(200);
    // Exactly the first answer, body and all.
    expect(again.body).to.deep.equal(first.body);
    const view = await call(inventory.base, 'GET', '/api/v1/inventory/v-idem');
    expect(view.body).to.include({ reservedQuantity: 2, availableQuantity: 1 });
    const short = await call(inventory.base, 'POST', '/api/v1/inventory/v-idem/reserve', { quantity: 2, reservationId: 'short' });
    expect(short.status).to.equal(409);
    const shortAgainAfterRestock = await call(inventory.base, 'POST', '/api/v1/inventory/adjust-stock', { productVariantId: 'v-idem', changeType: 'RESTOCK', quantity: 10 });
    expect(shortAgainAfterRestock.status).to.equal(200);
    const stillShort = await call(inventory.base, 'POST', '/api/v1/inventory/v-idem/reserve', { quantity: 2, reservationId: 'short' });
    expect(stillShort.status).to.equal(409);
    expect(stillShort.body).to.include({ error: 'INSUFFICIENT_STOCK', availableQuantity: 1 });
    expect(stillShort.body).to.deep.equal(short.body);
    const allocations = await call(inventory.base, 'GET', '/api/v1/allocations/by-order/o-1');
    expect(allocations.body.reservations).to.have.length(1);
    expect(allocations.body.reservations[0]).to.include({ reservationId: 'same', status: 'RESERVED', quantity: 2 });
  });

  it('releases, sells and adjusts stock, reporting movements, value and a reorder suggestion', async () => {
    await createVariant('v-ops', 12, 2599);
    const r1 = await call(inventory.base, 'POST', '/api/v1/inventory/v-ops/reserve', { quantity: 4, reservationId: 'r1', orderId: 'o-2' });
    const r2 = await call(inventory.base, 'POST', '/api/v1/inventory/v-ops/reserve', { quantity: 3, reservationId: 'r2', orderId: 'o-2' });
    expect([r1.status, r2.status]).to.deep.equal([200, 200]);
    const release = await call(inventory.base, 'POST', '/api/v1/inventory/v-ops/release', { reservationId: 'r1' });
    expect(release.status).to.equal(200);
    expect(release.body).to.include({ reservationId: 'r1', status: 'RELEASED', availableQuantity: 9 });
    const again = await call(inventory.base, 'POST', '/api/v1/inventory/v-ops/release', { reservationId: 'r1' });
    expect(again.body).to.include({ status: 'RELEASED' });
    const sale = await call(inventory.base, 'POST', '/api/v1/inventory/adjust-stock', { productVariantId: 'v-ops', changeType: 'SALE', quantity: 3, reservationId: 'r2', orderId: 'o-2' });
    expect(sale.status).to.equal(200);
    expect(sale.body).to.include({ quantity: 9, reservedQuantity: 0, availableQuantity: 9 });
    const damage = await call(inventory.base, 'POST', '/api/v1/inventory/adjust-stock', { productVariantId: 'v-ops', changeType: 'DAMAGE', quantity: 5, reason: 'dropped' });
    expect(damage.body).to.include({ quantity: 4, status: 'LOW_STOCK' });
    const oversell = await call(inventory.base, 'POST', '/api/v1/inventory/adjust-stock', { productVariantId: 'v-ops', changeType: 'SALE', quantity: 5 });
    expect(oversell.status).to.equal(409);
    expect(oversell.body.error).to.equal('INSUFFICIENT_STOCK');

    const movements = await call(inventory.base, 'GET', '/api/v1/reports/stock-movements?productVariantId=v-ops');
    expect(movements.body.map((m: { changeType: string; delta: number }) => [m.changeType, m.delta])).to.deep.equal([
      ['DAMAGE', -5],
      ['SALE', -3],
    ]);
    const low = await call(inventory.base, 'GET', '/api/v1/reports/low-stock');
    expect(low.body.map((v: { productVariantId: string }) => v.productVariantId)).to.include('v-ops');
    const value = await eventually(async () => {
      const res = await call(inventory.base, 'GET', '/api/v1/reports/inventory-value');
      const line = res.body.variants.find((v: { productVariantId: string }) => v.productVariantId === 'v-ops');
      expect(line).to.include({ quantity: 4, unitPrice: 25.99, value: 103.96, currency: 'EUR' });
      return res.body;
    });
    expect(value.totals.find((t: { currency: string }) => t.currency === 'EUR').value).to.be.greaterThan(103);
    const suggestion = await call(inventory.base, 'GET', '/api/v1/inventory/v-ops/reorder-suggestion');
    expect(suggestion.body).to.include({ unitsSold: 3, windowDays: 14, availableQuantity: 4, lowStockThreshold: 5 });
    // 3 sold in 14 days, 21 days to cover, plus the threshold of 5, less the 4 free.
    expect(suggestion.body.suggestedQuantity).to.equal(Math.ceil((3 / 14) * 21) + 5 - 4);
  });

  it('refuses bad input naming the problem, and unknown variants with 404', async () => {
    const missing = await call(inventory.base, 'POST', '/api/v1/inventory/v-view/reserve', { quantity: 0 });
    expect(missing.status).to.equal(400);
    expect(missing.body).to.include({ error: 'VALIDATION_FAILED', message: 'body.quantity must be >= 1' });
    const extra = await call(inventory.base, 'POST', '/api/v1/inventory/v-view/reserve', { quantity: 1, colour: 'red' });
    expect(extra.body.message).to.equal('body.colour is not allowed');
    const malformed = await call(inventory.base, 'POST', '/api/v1/inventory/v-view/reserve', '{"quantity":');
    expect(malformed.status).to.equal(400);
    expect(malformed.body.error).to.equal('MALFORMED_JSON');
    const type = await call(inventory.base, 'POST', '/api/v1/inventory/adjust-stock', { productVariantId: 'v-view', changeType: 'THEFT', quantity: 1 });
    expect(type.status).to.equal(400);
    expect(type.body.message).to.contain('body.changeType');
    const unknown = await call(inventory.base, 'POST', '/api/v1/inventory/nope/reserve', { quantity: 1 });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error).to.equal('NOT_FOUND');
    expect((await call(inventory.base, 'GET', '/api/v1/inventory/nope')).status).to.equal(404);
    expect((await call(inventory.base, 'DELETE', '/api/v1/inventory/v-view')).status).to.equal(405);
  });

  it('answers 202 with a link to poll when the outcome does not come in time', async () => {
    // An instance with only the api role: nothing decides its commands until a processor is back.
    const apiOnly = await startInProcess(inventoryService, env.prefix, { SERVICE_ROLES: 'api', COMMAND_TIMEOUT_MS: '300', DATA_DIR: `${inventory.dataDir}-api` });
    try {
      await inventory.stop(); // the instance that had the processor
      const res = await call(apiOnly.base, 'POST', '/api/v1/inventory/v-view/reserve', { quantity: 1, reservationId: 'slow' });
      expect(res.status).to.equal(202);
      expect(res.body).to.include({ reservationId: 'slow', status: 'PENDING' });
      expect(res.headers.get('location')).to.equal('/api/v1/inventory/v-view/reservations/slow');
      inventory = await startInProcess(inventoryService, env.prefix, { DATA_DIR: inventory.dataDir });
      const polled = await eventually(async () => {
        const r = await call(apiOnly.base, 'GET', res.headers.get('location')!);
        expect(r.status).to.equal(200);
        return r.body;
      }, 30_000);
      expect(polled).to.include({ reservationId: 'slow', status: 'RESERVED' });
    } finally {
      await apiOnly.stop();
    }
  });

  it('discontinues and retires variants from catalogue events', async () => {
    await createVariant('v-gone', 2);
    await call(inventory.base, 'POST', '/api/v1/inventory/v-gone/reserve', { quantity: 1, reservationId: 'kept' });
    await publish([
      { type: 'ProductVariantUpdated', data: { productId: 'prod-1', version: ++productVersion, occurredAt: Date.now(), variantId: 'v-gone', sku: 'SKU-v-gone', status: 'DISCONTINUED', reason: null } },
    ]);
    await eventually(async () => expect((await call(inventory.base, 'GET', '/api/v1/inventory/v-gone')).body.status).to.equal('DISCONTINUED'));
    const refused = await call(inventory.base, 'POST', '/api/v1/inventory/v-gone/reserve', { quantity: 1 });
    expect(refused.status).to.equal(409);
    expect(refused.body.error).to.equal('VARIANT_DISCONTINUED');
    const released = await call(inventory.base, 'POST', '/api/v1/inventory/v-gone/release', { reservationId: 'kept' });
    expect(released.status).to.equal(200);
    await publish([{ type: 'ProductVariantDeleted', data: { productId: 'prod-1', version: ++productVersion, occurredAt: Date.now(), variantId: 'v-gone', sku: 'SKU-v-gone' } }]);
    // Two units on hand: flagged for an operator rather than silently dropped,
    // listed in the report and counted in a metric (seed 001).
    await eventually(async () => expect((await call(inventory.base, 'GET', '/api/v1/inventory/v-gone')).body).to.include({ retirementBlocked: true }));
    const report = await call(inventory.base, 'GET', '/api/v1/reports/blocked-retirements');
    expect(report.status).to.equal(200);
    expect(report.body).to.have.length(1);
    expect(report.body[0]).to.include({ productVariantId: 'v-gone', productId: 'prod-1', sku: 'SKU-v-gone', quantity: 2, reservedQuantity: 0 });
    expect(Date.parse(report.body[0].blockedSince)).to.be.greaterThan(0);
    const blockedGauge = async () => /^inventory_retirements_blocked\{[^}]*\} (\d+)$/m.exec(await (await fetch(`${inventory.base}/metrics`)).text())?.[1];
    expect(await blockedGauge()).to.equal('1');
    await call(inventory.base, 'POST', '/api/v1/inventory/adjust-stock', { productVariantId: 'v-gone', changeType: 'ADJUSTMENT', quantity: -2, reason: 'written off' });
    await eventually(async () => expect((await call(inventory.base, 'GET', '/api/v1/inventory/v-gone')).status).to.equal(404));
    expect((await call(inventory.base, 'GET', '/api/v1/reports/blocked-retirements')).body).to.deep.equal([]);
    expect(await blockedGauge()).to.equal('0');
  });

  it("lists a product's variants (seed 003), and announces low and empty stock when a record is created", async () => {
    await createVariant('v-prod-low', 3); // threshold 5
    await createVariant('v-prod-none', 0);
    const byProduct = await call(inventory.base, 'GET', '/api/v1/inventory/by-product/prod-1');
    expect(byProduct.status).to.equal(200);
    const variants = byProduct.body.variants as { productVariantId: string; status: string }[];
    expect(variants.filter((v) => v.productVariantId.startsWith('v-prod-')).map((v) => [v.productVariantId, v.status])).to.deep.equal([
      ['v-prod-low', 'LOW_STOCK'],
      ['v-prod-none', 'OUT_OF_STOCK'],
    ]);
    expect((await call(inventory.base, 'GET', '/api/v1/inventory/by-product/no-such-product')).status).to.equal(404);
    // Both keys: they may sit on different partitions, read at different moments.
    const announced = (es: { key?: string }[], key: string) => es.filter((e) => e.key === key).length >= 2;
    const events = await readEvents(env.config, codec, env.topics.inventoryEvents, (es) => announced(es, 'v-prod-low') && announced(es, 'v-prod-none'), 30_000);
    expect(events.filter((e) => e.key === 'v-prod-low').map((e) => e.type)).to.deep.equal(['InventoryRecordInitialized', 'LowStockThresholdReached']);
    expect(events.filter((e) => e.key === 'v-prod-none').map((e) => e.type)).to.deep.equal(['InventoryRecordInitialized', 'OutOfStock']);
  });
});
