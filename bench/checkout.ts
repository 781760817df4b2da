// npm run bench -- checkout
//
// 1. Checkout: orders per second and p50/p99 from POST /api/v1/orders to the
//    order's OrderConfirmed being visible on order.events, at a steady offered
//    load, with the three services running as separate processes (as `npm
//    start` runs them).
// 2. Queries: p50/p99 and requests/s for GET /api/v1/inventory/{id} and GET
//    /api/v1/products/{id} under load from this process (autocannon), and in
//    the same run a bare express route returning a constant, in its own
//    process, as the baseline.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { HEADER, headerText } from '../services/platform/headers.ts';
import { createKafka } from '../services/platform/kafka/client.ts';
import { createLogger } from '../services/platform/logger.ts';
import { freePort } from '../scripts/free-port.ts';
import { runAuth } from '../scripts/local-auth.ts';
import { startNodeProcess } from './processes.ts';
import { freshNamespace, latencySummary, record, sleep } from './support.ts';

const OFFERED_PER_SECOND = Number(process.env.BENCH_ORDERS_PER_SECOND ?? 40);
const CHECKOUT_SECONDS = Number(process.env.BENCH_CHECKOUT_SECONDS ?? 20);
const QUERY_SECONDS = Number(process.env.BENCH_QUERY_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);

// The services check bearer tokens as in production; the benchmark is an administrator.
const auth = runAuth('bench');
let authorization = '';

async function http(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, headers: { authorization, ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(200);
  }
}

const startProcess = startNodeProcess;

function load(url: string, seconds: number, requests?: autocannon.Request[]): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections: CONNECTIONS, duration: seconds, headers: { authorization }, ...(requests ? { requests } : {}) }, (error: Error | null, result) =>
      error ? reject(error) : resolve(result),
    );
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

const summarise = (r: autocannon.Result) => ({ requestsPerSecond: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.non2xx, total: r.requests.total });

export async function checkoutBenchmark(): Promise<void> {
  const { prefix, config } = await freshNamespace('checkout');
  const ports = { product: await freePort(), inventory: await freePort(), order: await freePort(), baseline: await freePort() };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-checkout-'));
  authorization = `Bearer ${await auth.tokenFor('admin')}`;
  const env = {
    ...auth.env,
    TOPIC_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    PRODUCT_PORT: String(ports.product),
    INVENTORY_PORT: String(ports.inventory),
    ORDER_PORT: String(ports.order),
  };
  const children = ['inventory', 'product', 'order'].map((s) => startProcess(`services/${s}/main.ts`, env));
  const baseline = startProcess('bench/baseline/bare-express.ts', { PORT: String(ports.baseline) });
  const base = { product: `http://127.0.0.1:${ports.product}`, inventory: `http://127.0.0.1:${ports.inventory}`, order: `http://127.0.0.1:${ports.order}` };
  try {
    for (const [name, url] of Object.entries(base)) await waitFor(`${name} to be ready`, async () => (await http(`${url}/health/ready`)).status === 200);
    await waitFor('the baseline route', async () => (await http(`http://127.0.0.1:${ports.baseline}/constant`)).status === 200);

    console.log('[checkout] creating 50 products with 2 variants each');
    const variants: string[] = [];
    const products: string[] = [];
    for (let p = 0; p < 50; p++) {
      const res = await http(`${base.product}/api/v1/products`, 'POST', {
        name: `Bench product ${p}`,
        category: 'bench',
        currency: 'EUR',
        description: 'for the checkout benchmark',
        variants: [
          { sku: `B-${p}-A`, price: 10 + p, initialStock: 1_000_000 },
          { sku: `B-${p}-B`, price: 20 + p, initialStock: 1_000_000 },
        ],
      });
      if (res.status !== 201) throw new Error(`could not create a product: ${res.status} ${JSON.stringify(res.body)}`);
      products.push(res.body.id);
      variants.push(...res.body.variants.map((v: { id: string }) => v.id));
    }
    // Sellable everywhere: a probe order for every variant is accepted by the order service.
    await waitFor('the order service to know the catalogue', async () => {
      const res = await http(
        `${base.order}/api/v1/orders`,
        'POST',
        { customerId: 'probe', items: variants.map((variantId) => ({ variantId, quantity: 1 })).slice(0, 50) },
        { 'idempotency-key': crypto.randomUUID() },
      );
      const res2 = await http(
        `${base.order}/api/v1/orders`,
        'POST',
        { customerId: 'probe', items: variants.map((variantId) => ({ variantId, quantity: 1 })).slice(50) },
        { 'idempotency-key': crypto.randomUUID() },
      );
      return res.status === 202 && res2.status === 202;
    });

    // Checkout at a steady offered load; confirmations observed on order.events.
    const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench-observer', logger: createLogger('bench', 'error') });
    const observer = kafka.consumer({ groupId: `${prefix}bench-observer-${crypto.randomUUID()}`, maxWaitTimeInMs: 10 });
    const postedAt = new Map<string, number>();
    const confirmedAt = new Map<string, number>();
    const postLatency: number[] = [];
    let joined = false;
    observer.on(observer.events.GROUP_JOIN, () => (joined = true));
    await observer.connect();
    await observer.subscribe({ topic: `${prefix}order.events`, fromBeginning: false });
    await observer.run({
      eachMessage: async ({ message }) => {
        if (headerText(message.headers, HEADER.type) === 'commerce.order.OrderConfirmed') {
          const id = message.key?.toString();
          if (id && !confirmedAt.has(id)) confirmedAt.set(id, Date.now());
        }
      },
    });
    while (!joined) await sleep(50);
    await sleep(500);
    console.log(`[checkout] ${OFFERED_PER_SECOND} orders/s for ${CHECKOUT_SECONDS}s`);
    const total = OFFERED_PER_SECOND * CHECKOUT_SECONDS;
    const started = Date.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / OFFERED_PER_SECOND;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const lines = 1 + (i % 3);
      const items = Array.from({ length: lines }, (_, l) => ({ variantId: variants[(i * 7 + l * 13) % variants.length]!, quantity: 1 + (l % 2) }));
      inFlight.push(
        (async () => {
          const t0 = Date.now();
          const res = await http(`${base.order}/api/v1/orders`, 'POST', { customerId: `bench-${i % 200}`, items }, { 'idempotency-key': `bench-${i}` });
          postLatency.push(Date.now() - t0);
          if (res.status === 202) postedAt.set(res.body.orderId, t0);
        })(),
      );
    }
    await Promise.all(inFlight);
    const offeredSeconds = (Date.now() - started) / 1000;
    await waitFor('every order to be confirmed', async () => [...postedAt.keys()].every((id) => confirmedAt.has(id)), 120_000).catch(() => {});
    await observer.disconnect();
    const latencies = [...postedAt].flatMap(([id, t0]) => (confirmedAt.has(id) ? [confirmedAt.get(id)! - t0] : []));
    const lastConfirmation = Math.max(...[...postedAt.keys()].map((id) => confirmedAt.get(id) ?? 0));
    const checkout = {
      offeredPerSecond: OFFERED_PER_SECOND,
      orders: total,
      accepted: postedAt.size,
      confirmed: latencies.length,
      confirmedPerSecond: Number((latencies.length / ((lastConfirmation - started) / 1000)).toFixed(1)),
      offeredSeconds: Number(offeredSeconds.toFixed(1)),
      postToConfirmed: latencySummary(latencies),
      postResponse: latencySummary(postLatency),
    };

    // Query latency under load from this process, against a bare route as the baseline.
    const random = (list: string[]) => list[Math.floor(Math.random() * list.length)]!;
    console.log(`[checkout] query load: ${CONNECTIONS} connections, ${QUERY_SECONDS}s each`);
    const bare = summarise(await load(`http://127.0.0.1:${ports.baseline}/constant`, QUERY_SECONDS));
    const inventory = summarise(await load(base.inventory, QUERY_SECONDS, [{ method: 'GET', setupRequest: (r) => ({ ...r, path: `/api/v1/inventory/${random(variants)}` }) }]));
    const product = summarise(await load(base.product, QUERY_SECONDS, [{ method: 'GET', setupRequest: (r) => ({ ...r, path: `/api/v1/products/${random(products)}` }) }]));
    const queries = {
      connections: CONNECTIONS,
      seconds: QUERY_SECONDS,
      bareExpressConstant: bare,
      inventoryById: { ...inventory, ratioToBaseline: Number((inventory.requestsPerSecond / bare.requestsPerSecond).toFixed(2)) },
      productById: { ...product, ratioToBaseline: Number((product.requestsPerSecond / bare.requestsPerSecond).toFixed(2)) },
    };

    const summary = `
## Checkout benchmark (\`npm run bench -- checkout\`)

Three services as separate processes, ${OFFERED_PER_SECOND} orders/s offered for ${CHECKOUT_SECONDS}s (1-3 lines each, 100 variants).

| checkout | value |
| --- | --- |
| orders confirmed | ${checkout.confirmed} of ${checkout.orders} |
| confirmed per second | ${checkout.confirmedPerSecond} |
| POST to CONFIRMED p50 / p99 | ${checkout.postToConfirmed.p50Ms} ms / ${checkout.postToConfirmed.p99Ms} ms |
| POST answered (202) p50 / p99 | ${checkout.postResponse.p50Ms} ms / ${checkout.postResponse.p99Ms} ms |

Queries under load from a second process (autocannon, ${CONNECTIONS} connections, ${QUERY_SECONDS}s each):

| route | requests/s | p50 | p99 | vs bare express |
| --- | --- | --- | --- | --- |
| bare express, constant (baseline) | ${bare.requestsPerSecond} | ${bare.p50Ms} ms | ${bare.p99Ms} ms | 1.00 |
| GET /api/v1/inventory/{id} | ${inventory.requestsPerSecond} | ${inventory.p50Ms} ms | ${inventory.p99Ms} ms | ${queries.inventoryById.ratioToBaseline} |
| GET /api/v1/products/{id} | ${product.requestsPerSecond} | ${product.p50Ms} ms | ${product.p99Ms} ms | ${queries.productById.ratioToBaseline} |
`;
    const file = record('checkout', { checkout, queries }, summary);
    console.log(summary);
    console.log(`[checkout] recorded ${file}`);
  } finally {
    for (const child of [...children, baseline]) child.kill('SIGTERM');
    await sleep(3000);
    for (const child of [...children, baseline]) if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
