// npm run demo : drives a realistic scenario against a running system (start it
// with `npm start`; `npm run demo -- --secure` after `npm start -- --secure`,
// whose services serve HTTPS) and prints what happened. It creates and stocks a small
// catalogue, then runs concurrent checkouts: a race for the last units of one
// variant, a multi-line order with one short line, a cancel, a payment and a
// return. It ends with the final stock and checks that the figures reconcile.
import crypto from 'node:crypto';
import { runCli, UsageError } from './cli.ts';
import { secureHttpEnv } from './embedded/secure.ts';
import { tokenFor } from './local-auth.ts';
import { loadConfig } from '../services/platform/config.ts';
import { serviceEndpoints } from './service-ports.ts';

const args = process.argv.slice(2);
// --secure: the services npm start -- --secure runs, over HTTPS, trusting its local CA.
const secure = args.includes('--secure');
const config = loadConfig(secure && !process.env.HTTP_TLS_CERT_FILE ? { ...process.env, ...secureHttpEnv() } : process.env);
const { base, fetch } = serviceEndpoints(config);
const run = crypto.randomBytes(2).toString('hex').toUpperCase();

// The demo acts as an administrator (it also stocks the shelves): DEMO_TOKEN,
// or one minted from the local key npm start made.
let token: Promise<string> | undefined;
const bearer = () => (token ??= process.env.DEMO_TOKEN ? Promise.resolve(process.env.DEMO_TOKEN) : config.http.auth.mode === 'off' ? Promise.resolve('') : tokenFor('admin', { ttlSeconds: 3600 }));

async function http<T = any>(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const authorization = await bearer();
  const res = await fetch(url, {
    method,
    headers: { ...(authorization ? { authorization: `Bearer ${authorization}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(200);
  }
}

interface Variant {
  id: string;
  sku: string;
  name: string;
  initial: number;
  price: number;
}
interface OrderRecord {
  scenario: string;
  customer: string;
  orderId: string;
  items: { variant: Variant; quantity: number }[];
  status?: string;
  reason?: string;
  after?: string;
  paid?: boolean;
  returned?: { variant: Variant; quantity: number }[];
}

async function createProduct(name: string, variants: { sku: string; price: number; initialStock: number }[]): Promise<Variant[]> {
  const res = await http(`${base.product}/api/v1/products`, 'POST', { name, category: 'Outdoor', currency: 'EUR', description: `${name} for the demo`, variants });
  if (res.status !== 201) throw new Error(`could not create ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  await until(`${name} to become ACTIVE`, async () => {
    const p = await http(`${base.product}/api/v1/products/${res.body.id}`);
    return p.body.variants.every((v: { status: string }) => v.status === 'ACTIVE') ? true : undefined;
  });
  return res.body.variants.map((v: { id: string; sku: string; price: number }, i: number) => ({ id: v.id, sku: v.sku, name, initial: variants[i]!.initialStock, price: v.price }));
}

async function order(scenario: string, customer: string, items: { variant: Variant; quantity: number }[]): Promise<OrderRecord> {
  const body = { customerId: customer, items: items.map((i) => ({ variantId: i.variant.id, quantity: i.quantity })) };
  // The order service may still be catching up with the new catalogue: retry with the same key.
  const key = crypto.randomUUID();
  const placed = await until(`order for ${customer}`, async () => {
    const res = await http(`${base.order}/api/v1/orders`, 'POST', body, { 'idempotency-key': key });
    if (res.status === 202) return res.body;
    if (res.status === 422 && /unknown variant|not for sale/.test(res.body.message)) return undefined;
    throw new Error(`order for ${customer} refused: ${res.status} ${JSON.stringify(res.body)}`);
  });
  return { scenario, customer, orderId: placed.orderId, items };
}

async function settle(o: OrderRecord): Promise<OrderRecord> {
  const res = await http(`${base.order}/api/v1/orders/${o.orderId}?waitFor=CONFIRMED,REJECTED&timeoutMs=30000`);
  return { ...o, status: res.body.status, ...(res.body.reason ? { reason: res.body.reason } : {}) };
}

async function act(o: OrderRecord, action: 'cancel' | 'pay' | 'return', body?: unknown): Promise<string> {
  const res = await http(`${base.order}/api/v1/orders/${o.orderId}/${action}`, 'POST', body);
  if (res.status !== 200) throw new Error(`${action} of ${o.customer}'s order failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.status;
}

runCli('demo', async () => {
  if (args.some((a) => a !== '--secure')) throw new UsageError('usage: npm run demo [-- --secure]');
  for (const [name, url] of Object.entries(base)) {
    const ready = await http(`${url}/health/ready`).catch(() => ({ status: 0, body: undefined }));
    if (ready.status !== 200) throw new Error(`the ${name} service does not answer at ${url}: start the system first with 'npm start'${secure ? ' -- --secure' : ''}`);
  }
  console.log(`\nCreating the catalogue (SKUs suffixed -${run})...`);
  const [tent2, tent4] = await createProduct('Trail tent', [
    { sku: `TENT-2P-${run}`, price: 199, initialStock: 10 },
    { sku: `TENT-4P-${run}`, price: 299, initialStock: 3 },
  ]);
  const [stove] = await createProduct('Camp stove', [{ sku: `STOVE-${run}`, price: 49.5, initialStock: 20 }]);
  const [lamp] = await createProduct('Headlamp', [{ sku: `LAMP-${run}`, price: 24.99, initialStock: 5 }]);
  const variants = [tent2!, tent4!, stove!, lamp!];

  console.log('Running checkouts concurrently...');
  const racers = Array.from({ length: 12 }, (_, i) => order('race for the last 5 headlamps', `racer-${i + 1}`, [{ variant: lamp!, quantity: 1 }]));
  const short = order('multi-line, one line short', 'hana', [
    { variant: tent4!, quantity: 5 },
    { variant: stove!, quantity: 2 },
  ]);
  const toCancel = order('cancelled after confirmation', 'ivan', [
    { variant: tent2!, quantity: 2 },
    { variant: stove!, quantity: 1 },
  ]);
  const toPay = order('paid', 'julia', [{ variant: tent2!, quantity: 1 }]);
  const toReturn = order('paid, then one unit returned', 'kofi', [{ variant: stove!, quantity: 3 }]);
  const orders = await Promise.all([...racers, short, toCancel, toPay, toReturn].map(async (p) => settle(await p)));

  const byScenario = (s: string) => orders.find((o) => o.scenario === s)!;
  const cancelled = byScenario('cancelled after confirmation');
  if (cancelled.status === 'CONFIRMED') cancelled.after = await act(cancelled, 'cancel', { reason: 'changed my mind' });
  const paid = byScenario('paid');
  if (paid.status === 'CONFIRMED') {
    paid.after = await act(paid, 'pay');
    paid.paid = true;
  }
  const returned = byScenario('paid, then one unit returned');
  if (returned.status === 'CONFIRMED') {
    await act(returned, 'pay');
    returned.paid = true;
    returned.after = await act(returned, 'return', { items: [{ variantId: stove!.id, quantity: 1 }] });
    returned.returned = [{ variant: stove!, quantity: 1 }];
  }

  console.log('\nOrders');
  console.table(
    orders.map((o) => ({
      scenario: o.scenario,
      customer: o.customer,
      items: o.items.map((i) => `${i.quantity} x ${i.variant.sku}`).join(', '),
      saga: o.status,
      then: o.after ?? '',
      reason: o.reason ?? '',
    })),
  );

  // What the stock must be: held by confirmed orders not cancelled or paid; sold by paid ones; back from returns.
  const expected = (v: Variant) => {
    let reserved = 0;
    let sold = 0;
    let back = 0;
    for (const o of orders) {
      const units = o.items.filter((i) => i.variant.id === v.id).reduce((n, i) => n + i.quantity, 0);
      if (o.status !== 'CONFIRMED' || o.after === 'CANCELLED') continue;
      if (o.paid) sold += units;
      else reserved += units;
      back += (o.returned ?? []).filter((r) => r.variant.id === v.id).reduce((n, r) => n + r.quantity, 0);
    }
    return { reserved, sold, back, quantity: v.initial - sold + back };
  };
  const final = await until(
    'inventory to settle',
    async () => {
      const rows = await Promise.all(variants.map(async (v) => ({ v, s: (await http(`${base.inventory}/api/v1/inventory/${v.id}`)).body })));
      return rows.every(({ v, s }) => s.quantity === expected(v).quantity && s.reservedQuantity === expected(v).reserved) ? rows : undefined;
    },
    30_000,
  ).catch(async () => Promise.all(variants.map(async (v) => ({ v, s: (await http(`${base.inventory}/api/v1/inventory/${v.id}`)).body }))));

  console.log('Final stock');
  console.table(
    final.map(({ v, s }) => {
      const e = expected(v);
      return {
        sku: v.sku,
        initial: v.initial,
        sold: e.sold,
        returned: e.back,
        'on hand': s.quantity,
        reserved: s.reservedQuantity,
        available: s.availableQuantity,
        status: s.status,
        reconciles: s.quantity === e.quantity && s.reservedQuantity === e.reserved && s.availableQuantity === s.quantity - s.reservedQuantity && s.availableQuantity >= 0 ? 'yes' : 'NO',
      };
    }),
  );
  const confirmedRacers = orders.filter((o) => o.scenario.startsWith('race') && o.status === 'CONFIRMED').length;
  console.log(`Race: ${confirmedRacers} of 12 racers got a headlamp (5 in stock).`);
  const ok = final.every(({ v, s }) => s.quantity === expected(v).quantity && s.reservedQuantity === expected(v).reserved && s.availableQuantity >= 0) && confirmedRacers === 5;
  console.log(ok ? 'Everything reconciles: on hand = initial - sold + returned; reserved = what confirmed, unpaid orders hold.\n' : 'The figures do NOT reconcile.\n');
  if (!ok) process.exitCode = 1;
});
