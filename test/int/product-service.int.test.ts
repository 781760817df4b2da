// The product service with inventory beside it, on the real broker.
import { expect } from 'chai';
import { inventoryService } from '../../services/inventory/main.ts';
import { createKafka } from '../../services/platform/kafka/client.ts';
import { createLogger } from '../../services/platform/logger.ts';
import { createRequestReplyClient, RequestTimeoutError } from '../../services/platform/messaging/request-reply.ts';
import { createCodec } from '../../services/platform/schemas/codec.ts';
import { productService } from '../../services/product/main.ts';
import type { ProductDetailsReplies } from '../../schemas/generated/product.details.replies.ts';
import type { ProductDetailsRequests } from '../../schemas/generated/product.details.requests.ts';
import { provision, uniquePrefix, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call } from '../support/http.ts';
import { startInProcess, type StartedService } from '../support/services.ts';

describe('product service (real broker, with inventory)', function () {
  this.timeout(180_000);
  let env: TestEnvironment;
  let inventory: StartedService;
  let product: StartedService;

  const create = (body: Record<string, unknown>) => call(product.base, 'POST', '/api/v1/products', body);
  const mug = (sku = 'MUG-RED') => ({
    name: 'Enamel mug',
    description: 'A sturdy camping mug with a speckled glaze',
    category: 'Kitchen',
    currency: 'EUR',
    variants: [
      { sku, price: 12.5, attributes: { colour: 'red' }, initialStock: 30, lowStockThreshold: 5 },
      { sku: `${sku}-XL`, price: 14.99, attributes: { colour: 'red', size: 'XL' } },
    ],
  });

  before(async () => {
    env = await provision('product');
    inventory = await startInProcess(inventoryService, env.prefix);
    product = await startInProcess(productService, env.prefix, { INVENTORY_URL: inventory.base });
  });
  after(async () => {
    await product?.stop();
    await inventory?.stop();
    await env.close();
  });

  it('creates a product whose variants get inventory records and turn ACTIVE', async () => {
    const res = await create(mug());
    expect(res.status).to.equal(201);
    expect(res.headers.get('location')).to.equal(`/api/v1/products/${res.body.id}`);
    expect(res.body).to.include({ name: 'Enamel mug', category: 'Kitchen', currency: 'EUR', status: 'ACTIVE' });
    expect(res.body.variants.map((v: { sku: string; status: string; price: number }) => [v.sku, v.status, v.price])).to.deep.equal([
      ['MUG-RED', 'PENDING_INVENTORY', 12.5],
      ['MUG-RED-XL', 'PENDING_INVENTORY', 14.99],
    ]);
    const [red, xl] = res.body.variants;
    const active = await eventually(async () => {
      const p = await call(product.base, 'GET', `/api/v1/products/${res.body.id}`);
      expect(p.body.variants.map((v: { status: string }) => v.status)).to.deep.equal(['ACTIVE', 'ACTIVE']);
      return p.body;
    }, 30_000);
    expect(active.variants[0].stock).to.include({ availableQuantity: 30, status: 'IN_STOCK' });
    expect(active.variants[1].stock).to.include({ availableQuantity: 0, status: 'AWAITING_INITIAL_STOCK' });
    expect((await call(inventory.base, 'GET', `/api/v1/inventory/${red.id}`)).body).to.include({ sku: 'MUG-RED', quantity: 30 });
    expect((await call(inventory.base, 'GET', `/api/v1/inventory/${xl.id}`)).body).to.include({ status: 'AWAITING_INITIAL_STOCK' });
  });

  it('shows stock changes in inventory in the product view, with when they happened', async () => {
    const res = await create(mug('CUP-BLUE'));
    const variant = res.body.variants[0];
    await eventually(async () => expect((await call(inventory.base, 'GET', `/api/v1/inventory/${variant.id}`)).status).to.equal(200));
    const reserve = await call(inventory.base, 'POST', `/api/v1/inventory/${variant.id}/reserve`, { quantity: 27 });
    expect(reserve.status).to.equal(200);
    const seen = await eventually(async () => {
      const v = await call(product.base, 'GET', `/api/v1/products/variants/${variant.id}`);
      expect(v.body.stock).to.include({ availableQuantity: 3, status: 'LOW_STOCK' });
      return v.body;
    });
    const inv = await call(inventory.base, 'GET', `/api/v1/inventory/${variant.id}`);
    expect(seen.stock.updatedAt).to.equal(inv.body.updatedAt);
  });

  it('changes prices, details, discontinues and deletes, with the events inventory needs', async () => {
    const res = await create(mug('BOWL'));
    const [bowl, xl] = res.body.variants;
    const price = await call(product.base, 'PUT', `/api/v1/products/${res.body.id}/variants/${bowl.id}/price`, { price: 13.75 });
    expect(price.status).to.equal(200);
    expect(price.body.variants[0].price).to.equal(13.75);
    expect((await call(product.base, 'GET', `/api/v1/products/variants/${bowl.id}/price`)).body).to.include({ price: 13.75, currency: 'EUR', sku: 'BOWL' });
    const patched = await call(product.base, 'PATCH', `/api/v1/products/${res.body.id}`, { name: 'Enamel bowl' });
    expect(patched.body).to.include({ name: 'Enamel bowl', description: 'A sturdy camping mug with a speckled glaze' });
    // Commands that change nothing are answered at once with the current state
    // (a CommandUnchanged outcome on the log), not left pending until the timeout.
    const sameName = await call(product.base, 'PATCH', `/api/v1/products/${res.body.id}`, { name: 'Enamel bowl' });
    expect(sameName.status, JSON.stringify(sameName.body)).to.equal(200);
    expect(sameName.body).to.include({ id: res.body.id, name: 'Enamel bowl' });
    const samePrice = await call(product.base, 'PUT', `/api/v1/products/${res.body.id}/variants/${bowl.id}/price`, { price: 13.75 });
    expect(samePrice.status, JSON.stringify(samePrice.body)).to.equal(200);
    expect(samePrice.body.variants[0].price).to.equal(13.75);
    const deleted = await call(product.base, 'DELETE', `/api/v1/products/${res.body.id}/variants/${xl.id}`);
    expect(deleted.body.variants[1].status).to.equal('DELETED');
    const discontinued = await call(product.base, 'POST', `/api/v1/products/${res.body.id}/discontinue`, { reason: 'end of line' });
    expect(discontinued.body.status).to.equal('DISCONTINUED');
    expect(discontinued.body.variants.map((v: { status: string }) => v.status)).to.deep.equal(['DISCONTINUED', 'DELETED']);
    await eventually(async () => expect((await call(inventory.base, 'GET', `/api/v1/inventory/${bowl.id}`)).body.status).to.equal('DISCONTINUED'));
    // The deleted variant's SKU is free again.
    const reuse = await create({ ...mug('REUSE'), variants: [{ sku: 'BOWL-XL', price: 1 }] });
    expect(reuse.status).to.equal(201);
  });

  it('never gives one SKU to two products, even when they race', async () => {
    const racers = await Promise.all(Array.from({ length: 6 }, (_, i) => create({ ...mug(`RACER-${i}`), variants: [{ sku: 'CONTESTED', price: 5 }] })));
    const statuses = racers.map((r) => r.status).sort();
    expect(statuses).to.deep.equal([201, 409, 409, 409, 409, 409]);
    const losers = racers.filter((r) => r.status === 409);
    for (const l of losers) expect(l.body).to.include({ error: 'SKU_TAKEN' });
    const again = await create({ ...mug('LATE'), variants: [{ sku: 'contested', price: 5 }] });
    expect(again.status).to.equal(409);
  });

  it('refuses invalid products, naming the problem', async () => {
    const noVariants = await create({ ...mug(), variants: [] });
    expect(noVariants.status).to.equal(400);
    expect(noVariants.body.message).to.equal('body.variants must NOT have fewer than 1 items');
    const decimals = await create({ ...mug('DEC'), variants: [{ sku: 'DEC', price: 1.234 }] });
    expect(decimals.status).to.equal(400);
    expect(decimals.body.message).to.equal('body.variants.0.price has more decimals than EUR allows');
    const currency = await create({ ...mug('CUR'), currency: 'EURO' });
    expect(currency.body.message).to.contain('body.currency');
    const unknownCurrency = await create({ ...mug('UNK'), currency: 'XYZ' });
    expect(unknownCurrency.status).to.equal(400);
    expect(unknownCurrency.body).to.include({ error: 'VALIDATION_FAILED', message: 'body.currency must be equal to one of the allowed values' });
    const dup = await create({
      ...mug('DUP'),
      variants: [
        { sku: 'DUP', price: 1 },
        { sku: 'dup', price: 2 },
      ],
    });
    expect(dup.body.message).to.equal("variants[1].sku 'dup' repeats variants[0].sku");
    expect((await call(product.base, 'GET', '/api/v1/products/nope')).status).to.equal(404);
    expect((await call(product.base, 'PATCH', '/api/v1/products/nope', {})).body.message).to.equal('body must NOT have fewer than 1 properties');
  });

  it('finds products by words in the name, description, SKU or category', async () => {
    const res = await create({ name: 'Trail lantern', description: 'Rechargeable, bright and waterproof', category: 'Outdoor', currency: 'EUR', variants: [{ sku: 'LNT-200', price: 39 }] });
    expect(res.status).to.equal(201);
    const search = async (query: string) => (await call(product.base, 'GET', `/api/v1/products?${query}`)).body.results.map((p: { id: string }) => p.id);
    expect(await search('q=lantern')).to.deep.equal([res.body.id]);
    expect(await search('q=waterpr')).to.deep.equal([res.body.id]);
    expect(await search('q=LNT-200')).to.deep.equal([res.body.id]);
    expect(await search('q=outdoor')).to.deep.equal([res.body.id]);
    expect(await search('category=outdoor')).to.deep.equal([res.body.id]);
    expect(await search('q=lantern&category=Kitchen')).to.deep.equal([]);
    expect(await search('q=mug')).to.not.include(res.body.id);
    expect((await search('q=speckled')).length).to.be.greaterThan(0);
  });

  it('answers product-details requests over the log, and a request nobody answers times out cleanly', async () => {
    const created = await create(mug('DETAIL'));
    const variantId = created.body.variants[0].id;
    await eventually(async () => expect((await call(product.base, 'GET', `/api/v1/products/variants/${variantId}`)).body.status).to.equal('ACTIVE'), 30_000);
    const kafka = createKafka({ brokers: env.config.kafka.brokers, clientId: 'test-details', logger: createLogger('test', 'error') });
    const codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [env.topics.productDetailsRequests] });
    const client = createRequestReplyClient<ProductDetailsRequests, ProductDetailsReplies>({
      kafka,
      codec,
      source: 'test',
      requests: env.topics.productDetailsRequests,
      replies: env.topics.productDetailsReplies,
      groupPrefix: `${env.prefix}test`,
      timeoutMs: 10_000,
      logger: createLogger('test', 'error'),
    });
    await client.start();
    try {
      const reply = await client.request({ type: 'ProductDetailsRequested', data: { requestId: '', variantIds: [variantId, 'missing'] } });
      expect(reply.type).to.equal('ProductDetailsProvided');
      expect(reply.data.variants.map((v) => ({ ...v }))).to.deep.equal([
        { variantId, found: true, productId: created.body.id, productName: 'Enamel mug', sku: 'DETAIL', priceMinor: 1250, currency: 'EUR', status: 'ACTIVE' },
        { variantId: 'missing', found: false, productId: null, productName: null, sku: null, priceMinor: null, currency: null, status: null },
      ]);
    } finally {
      await client.stop();
    }

    // A namespace where no product service listens: the request times out and is forgotten.
    const silent = await provision('details-silent');
    const lonely = createRequestReplyClient<ProductDetailsRequests, ProductDetailsReplies>({
      kafka,
      codec: await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [silent.topics.productDetailsRequests] }),
      source: 'test',
      requests: silent.topics.productDetailsRequests,
      replies: silent.topics.productDetailsReplies,
      groupPrefix: uniquePrefix('lonely'),
      timeoutMs: 500,
      logger: createLogger('test', 'error'),
    });
    await lonely.start();
    try {
      const started = Date.now();
      const error = await lonely.request({ type: 'ProductDetailsRequested', data: { requestId: '', variantIds: ['x'] } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(RequestTimeoutError);
      expect(Date.now() - started).to.be.lessThan(5000);
      expect(lonely.pending()).to.equal(0);
    } finally {
      await lonely.stop();
      await silent.close();
    }
  });

  it('with inventory stopped, opens the circuit and answers from the local view, flagged stale', async () => {
    const created = await create(mug('LIVE'));
    await eventually(async () => expect((await call(product.base, 'GET', `/api/v1/products/${created.body.id}`)).body.variants[0].status).to.equal('ACTIVE'));
    const live = await call(product.base, 'GET', `/api/v1/products/${created.body.id}/stock`);
    expect(live.body).to.include({ source: 'inventory', stale: false });
    expect(live.body.variants[0]).to.include({ availableQuantity: 30 });

    await inventory.stop();
    const fallbacks = [];
    for (let i = 0; i < 4; i++) fallbacks.push(await call(product.base, 'GET', `/api/v1/products/${created.body.id}/stock`));
    for (const f of fallbacks) {
      expect(f.status).to.equal(200);
      expect(f.body).to.include({ source: 'local-view', stale: true });
      expect(f.body.variants[0]).to.include({ availableQuantity: 30, status: 'IN_STOCK' });
    }
    expect(fallbacks.at(-1)!.body.circuit).to.equal('open');
    // Once open, the fallback is immediate: no attempt, no retry, no timeout.
    const started = Date.now();
    const fast = await call(product.base, 'GET', `/api/v1/products/${created.body.id}/stock`);
    expect(fast.body.stale).to.equal(true);
    expect(Date.now() - started).to.be.lessThan(200);
    inventory = await startInProcess(inventoryService, env.prefix, { DATA_DIR: inventory.dataDir });
  });

  it('still knows which product holds each SKU after the processor restarts from the log', async () => {
    await product.stop();
    product = await startInProcess(productService, env.prefix, { INVENTORY_URL: inventory.base });
    const again = await create({ ...mug('AFTER-RESTART'), variants: [{ sku: 'CONTESTED', price: 5 }] });
    expect(again.status).to.equal(409);
    expect(again.body.error).to.equal('SKU_TAKEN');
  });
});
