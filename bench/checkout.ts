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
import autocannon from 'autocannon';
import { freePort } from '../scripts/free-port.ts';
import { startNodeProcess, startSystem } from './processes.ts';
import { steadyCheckout, waitForCatalogue } from './steady-checkout.ts';
import { freshNamespace, record, sleep, waitFor } from './support.ts';
import { tracingCost, tracingSummary } from './tracing-cost.ts';

const OFFERED_PER_SECOND = Number(process.env.BENCH_ORDERS_PER_SECOND ?? 40);
const CHECKOUT_SECONDS = Number(process.env.BENCH_CHECKOUT_SECONDS ?? 20);
const QUERY_SECONDS = Number(process.env.BENCH_QUERY_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);

let authorization = '';

async function http(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, headers: { authorization, ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

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
  const baselinePort = await freePort();
  const system = await startSystem(prefix);
  const baseline = startNodeProcess('bench/baseline/bare-express.ts', { PORT: String(baselinePort) });
  const base = system.base;
  authorization = `Bearer ${await system.token('admin')}`;
  let systemStopped = false;
  try {
    await waitFor('the baseline route', async () => (await http(`http://127.0.0.1:${baselinePort}/constant`)).status === 200);

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
    await waitForCatalogue(http, base.order, variants);

    // Checkout at a steady offered load; confirmations observed on order.events.
    console.log(`[checkout] ${OFFERED_PER_SECOND} orders/s for ${CHECKOUT_SECONDS}s`);
    const load_ = { http, variants, config, prefix, perSecond: OFFERED_PER_SECOND, seconds: CHECKOUT_SECONDS };
    const checkout = await steadyCheckout({ ...load_, orderBase: base.order });

    // Query latency under load from this process, against a bare route as the baseline.
    const random = (list: string[]) => list[Math.floor(Math.random() * list.length)]!;
    console.log(`[checkout] query load: ${CONNECTIONS} connections, ${QUERY_SECONDS}s each`);
    const bare = summarise(await load(`http://127.0.0.1:${baselinePort}/constant`, QUERY_SECONDS));
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
    await system.stop();
    systemStopped = true;
    // What tracing costs: the same load on fresh starts of the three services, tracing off then on.
    const tracing = await tracingCost({
      prefix,
      load: load_,
      authorize: async (s) => {
        authorization = `Bearer ${await s.token('admin')}`;
      },
    });

    const file = record('checkout', { checkout, queries, tracing }, `${summary}\n${tracingSummary(tracing)}`);
    console.log(`${summary}\n${tracingSummary(tracing)}`);
    console.log(`[checkout] recorded ${file}`);
  } finally {
    baseline.kill('SIGTERM');
    if (!systemStopped) await system.stop();
    await sleep(1000);
    if (baseline.exitCode === null) baseline.kill('SIGKILL');
  }
}
