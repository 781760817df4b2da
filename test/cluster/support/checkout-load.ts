// A steady stream of checkouts and reservations over HTTP, as storefronts send
// them through a fault: every request retried with the same idempotency key
// (or reservation id) on a refusal, a 5xx or a lost connection, until it is
// acknowledged. Records what was acknowledged, and when each checkout reached
// its outcome on order.events, for the invariants and the recovery time.
import crypto from 'node:crypto';
import { HEADER, headerText } from '../../../services/platform/headers.ts';
import type { PlatformConfig } from '../../../services/platform/config.ts';
import { createKafka } from '../../../services/platform/kafka/client.ts';
import { createLogger } from '../../../services/platform/logger.ts';
import { call } from '../../support/http.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Attempted {
  key: string;
  /** When the first attempt went out. */
  firstSentAt: number;
  attempts: number;
  /** The answer that settled it: 2xx (or 409, a decided refusal, for reservations). */
  status?: number;
  /** Orders: the id the service gave; reservations: the variant. */
  id?: string;
  failure?: string;
}

export interface Endpoints {
  order: string;
  inventory: string;
}

const RETRYABLE = (status: number) => status === 429 || status >= 500;
/** How long one request keeps being retried before it counts as failed. */
const GIVE_UP_AFTER_MS = 90_000;

async function attempt(what: Attempted, send: () => Promise<{ status: number; body: any; headers: Headers }>, settles: (status: number) => boolean): Promise<void> {
  for (;;) {
    what.attempts++;
    try {
      const res = await send();
      if (settles(res.status)) {
        what.status = res.status;
        return void (what.id ??= res.body?.orderId);
      }
      if (!RETRYABLE(res.status)) return void (what.failure = `${res.status} ${JSON.stringify(res.body)}`);
      const retryAfter = Number(res.headers.get('retry-after') ?? 0) * 1000;
      await sleep(Math.max(200, Math.min(retryAfter, 2000)));
    } catch (error) {
      await sleep(250); // connection refused or timed out: the outcome is unknown, the key makes the retry safe
    }
    if (Date.now() - what.firstSentAt > GIVE_UP_AFTER_MS) return void (what.failure ??= 'gave up retrying');
  }
}

export interface LoadOptions {
  name: string;
  endpoints: Endpoints;
  variants: string[];
  ordersPerSecond: number;
  reservationsPerSecond: number;
}

export interface RunningLoad {
  orders: Attempted[];
  reservations: Attempted[];
  /** Stops sending and waits for every request in hand to settle. */
  stop(): Promise<void>;
}

/** Open-loop: request i goes out at start + i/rate, whatever happened to the ones before. */
export function startLoad(options: LoadOptions): RunningLoad {
  const orders: Attempted[] = [];
  const reservations: Attempted[] = [];
  const inFlight = new Set<Promise<void>>();
  let running = true;
  const track = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const pick = (i: number) => options.variants[(i * 7919) % options.variants.length]!;
  const loop = async (rate: number, fire: (i: number) => void) => {
    const started = Date.now();
    for (let i = 0; running; i++) {
      const wait = started + (i * 1000) / rate - Date.now();
      if (wait > 0) await sleep(wait);
      if (running) fire(i);
    }
  };
  const ordering = loop(options.ordersPerSecond, (i) => {
    const o: Attempted = { key: `${options.name}-order-${i}`, firstSentAt: Date.now(), attempts: 0 };
    orders.push(o);
    const items = [{ variantId: pick(i), quantity: 1 }, ...(i % 2 ? [{ variantId: pick(i + 1), quantity: 1 }] : [])];
    const body = { customerId: `customer-${i % 50}`, items };
    track(
      attempt(
        o,
        () => call(options.endpoints.order, 'POST', '/api/v1/orders', body, { 'idempotency-key': o.key }),
        (s) => s === 200 || s === 201 || s === 202,
      ),
    );
  });
  const reserving = loop(options.reservationsPerSecond, (i) => {
    const variant = pick(i + 3);
    const r: Attempted = { key: `${options.name}-reservation-${i}`, firstSentAt: Date.now(), attempts: 0, id: variant };
    reservations.push(r);
    const body = { reservationId: r.key, quantity: 1, ttlSeconds: 3600 };
    track(
      attempt(
        r,
        () => call(options.endpoints.inventory, 'POST', `/api/v1/inventory/${variant}/reserve`, body),
        (s) => s === 200 || s === 201 || s === 202 || s === 409,
      ),
    );
  });
  return {
    orders,
    reservations,
    async stop() {
      running = false;
      await Promise.all([ordering, reserving]);
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}

export interface OutcomeWatch {
  /** orderId -> when its first outcome (OrderConfirmed or OrderRejected) was seen. */
  seen: Map<string, number>;
  stop(): Promise<void>;
}

/** Order outcomes as a read_committed consumer sees them, from now on. */
export async function watchOutcomes(config: PlatformConfig, topic: string): Promise<OutcomeWatch> {
  const seen = new Map<string, number>();
  // Quiet: every broker fault makes it log connection errors, which the test expects.
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'cluster-outcomes', security: config.kafka.security, logger: createLogger('cluster-outcomes', 'silent') });
  const consumer = kafka.consumer({ groupId: `${config.topicPrefix}cluster-outcomes-${crypto.randomUUID()}`, maxWaitTimeInMs: 50 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const type = headerText(message.headers, HEADER.type)?.split('.').pop();
      const key = message.key?.toString();
      // When the outcome was written (the producer's timestamp), not when this
      // watcher, itself recovering from the fault, got round to reading it.
      if (key && (type === 'OrderConfirmed' || type === 'OrderRejected') && !seen.has(key)) seen.set(key, Number(message.timestamp));
    },
  });
  while (!joined) await sleep(50);
  return { seen, stop: () => consumer.disconnect() };
}

export interface Recovery {
  /** From the fault until the first checkout sent after it reached its outcome. */
  checkoutsFlowAgainMs: number;
  /** The longest time without any checkout outcome, from the fault on. */
  longestOutcomeGapMs: number;
}

export function recoveryAfter(faultAt: number, orders: Attempted[], seen: Map<string, number>): Recovery {
  const after = orders.filter((o) => o.firstSentAt >= faultAt && o.id && seen.has(o.id)).map((o) => seen.get(o.id!)!);
  const outcomes = [...seen.values()].filter((t) => t >= faultAt - 1000).sort((a, b) => a - b);
  let gap = outcomes.length ? outcomes[0]! - faultAt : Infinity;
  for (let i = 1; i < outcomes.length; i++) gap = Math.max(gap, outcomes[i]! - outcomes[i - 1]!);
  return { checkoutsFlowAgainMs: after.length ? Math.min(...after) - faultAt : Infinity, longestOutcomeGapMs: Math.max(0, gap) };
}
