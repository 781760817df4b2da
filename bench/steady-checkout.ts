// The checkout load the checkout benchmark offers, in one place so that each
// configuration it compares (tracing off, tracing on) meets the same load:
// orders at a steady rate, each POSTed and its OrderConfirmed observed on
// order.events.
import crypto from 'node:crypto';
import type { PlatformConfig } from '../services/platform/config.ts';
import { HEADER, headerText } from '../services/platform/headers.ts';
import { createKafka } from '../services/platform/kafka/client.ts';
import { createLogger } from '../services/platform/logger.ts';
import { latencySummary, sleep, waitFor } from './support.ts';

export type Http = (url: string, method?: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any }>;

/** Until the order service accepts an order for every variant (its catalogue copy is complete). */
export function waitForCatalogue(http: Http, orderBase: string, variants: string[]) {
  return waitFor('the order service to know the catalogue', async () => {
    for (let i = 0; i < variants.length; i += 50) {
      const items = variants.slice(i, i + 50).map((variantId) => ({ variantId, quantity: 1 }));
      const res = await http(`${orderBase}/api/v1/orders`, 'POST', { customerId: 'probe', items }, { 'idempotency-key': crypto.randomUUID() });
      if (res.status !== 202) return false;
    }
    return true;
  });
}

export interface SteadyCheckout {
  offeredPerSecond: number;
  orders: number;
  accepted: number;
  confirmed: number;
  confirmedPerSecond: number;
  offeredSeconds: number;
  postToConfirmed: ReturnType<typeof latencySummary>;
  postResponse: ReturnType<typeof latencySummary>;
}

export async function steadyCheckout(options: {
  http: Http;
  orderBase: string;
  variants: string[];
  config: PlatformConfig;
  prefix: string;
  perSecond: number;
  seconds: number;
}): Promise<SteadyCheckout> {
  const { http, orderBase, variants, config, prefix, perSecond, seconds } = options;
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
  const run = crypto.randomBytes(3).toString('hex');
  const total = perSecond * seconds;
  const started = Date.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const lines = 1 + (i % 3);
    const items = Array.from({ length: lines }, (_, l) => ({ variantId: variants[(i * 7 + l * 13) % variants.length]!, quantity: 1 + (l % 2) }));
    inFlight.push(
      (async () => {
        const t0 = Date.now();
        const res = await http(`${orderBase}/api/v1/orders`, 'POST', { customerId: `bench-${i % 200}`, items }, { 'idempotency-key': `bench-${run}-${i}` });
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
  return {
    offeredPerSecond: perSecond,
    orders: total,
    accepted: postedAt.size,
    confirmed: latencies.length,
    confirmedPerSecond: Number((latencies.length / ((lastConfirmation - started) / 1000)).toFixed(1)),
    offeredSeconds: Number(offeredSeconds.toFixed(1)),
    postToConfirmed: latencySummary(latencies),
    postResponse: latencySummary(postLatency),
  };
}
