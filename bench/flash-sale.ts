// npm run bench -- flash-sale
//
// A flash sale against the whole system, the three services as `npm start` runs
// them: a storefront (one bearer token, many customers) places orders of 1-3
// lines over a Zipf-skewed catalogue in which a few hot variants run out of
// stock, at an offered load ramped in steps until the system no longer keeps up.
//
//   knee: the highest offered rate at which at least 99% of the orders offered
//     reach CONFIRMED or REJECTED within 2 s of being sent (a shed order, 503,
//     counts against it), and every accepted order reaches its outcome, at
//     that step and every step below it;
//   at half the knee: POST answered and POST -> outcome, p50 and p99, with the
//     time of each hop taken from the records' own timestamps;
//   per process: CPU (cores) and peak memory, each step;
//   in the same run, a raw kafkajs transactional consume -> produce loop: its
//     throughput draining a backlog, and its single-hop latency at the half-knee
//     rate (produce one message, the loop copies it in a transaction, a
//     read_committed consumer sees it).
// BENCH_FLASH_RATES (comma-separated orders/s), BENCH_FLASH_STEP_SECONDS,
// BENCH_FLASH_HALF_SECONDS, BENCH_FLASH_HALF_RATE (trace that rate instead) and
// BENCH_FLASH_EXTRA_ENV (KEY=VALUE,... for the services) adjust it.
import crypto from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { Pool } from 'undici';
import { HEADER, headerText } from '../services/platform/headers.ts';
import { createKafka } from '../services/platform/kafka/client.ts';
import { createLogger } from '../services/platform/logger.ts';
import { createPassthrough } from './baseline/transactional-passthrough.ts';
import { listenOverflows, measureProcesses, startSystem, watchedPids, type ProcessUsage, type RunningSystem } from './processes.ts';
import { freshNamespace, latencySummary, record, sleep, zipfSampler } from './support.ts';

const RATES = (process.env.BENCH_FLASH_RATES ?? '100,200,300,400,500,600,700,800,1000').split(',').map(Number);
const STEP_SECONDS = Number(process.env.BENCH_FLASH_STEP_SECONDS ?? 20);
const HALF_SECONDS = Number(process.env.BENCH_FLASH_HALF_SECONDS ?? 30);
const PRODUCTS = 100;
const HOT_VARIANTS = 5;
const HOT_STOCK = 150;
const OUTCOME_WITHIN_MS = 2_000;
/** The storefront's open connections: requests beyond them wait in the storefront, and count in POST answered. */
const CONNECTIONS = Number(process.env.BENCH_FLASH_CONNECTIONS ?? 1024);
const quiet = createLogger('bench', 'error');

interface Placed {
  key: string;
  sentAt: number;
  answeredAt?: number;
  status?: number;
  orderId?: string;
  retryAfter?: string | null;
}

interface Outcome {
  at: number;
  type: 'OrderConfirmed' | 'OrderRejected';
}

/**
 * Orders' outcomes as a read_committed consumer of order.events sees them, by
 * correlation id (our Idempotency-Key); with `traced`, also the records of the
 * commands and inventory's events, for the hop breakdown (a second consumer,
 * so the ramp's steps do not pay for it).
 */
async function observeOutcomes(kafka: Kafka, prefix: string, trace: Map<string, Record<string, number>>, traced = false) {
  const outcomes = new Map<string, Outcome>();
  const consumer = kafka.consumer({ groupId: `${prefix}bench-outcomes-${crypto.randomUUID()}`, maxWaitTimeInMs: 20 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  for (const topic of traced ? ['order.events', 'order.commands', 'inventory.events'] : ['order.events']) await consumer.subscribe({ topic: `${prefix}${topic}`, fromBeginning: false });
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        const type = headerText(m.headers, HEADER.type)?.split('.').pop();
        const key = headerText(m.headers, HEADER.correlationId);
        if (!type || !key) continue;
        if (type === 'OrderConfirmed' || type === 'OrderRejected') {
          if (!outcomes.has(key)) outcomes.set(key, { at: now, type });
        }
        const hops = trace.get(key);
        if (hops) {
          // Record timestamps: when the writing producer sent each record (the latest of an order's lines).
          const t = Number(m.timestamp);
          hops[type] = Math.max(hops[type] ?? 0, t);
          if (type === 'OrderConfirmed' || type === 'OrderRejected') hops.observed = now;
        }
      }
    },
  });
  while (!joined) await sleep(50);
  await sleep(500);
  return { outcomes, stop: () => consumer.disconnect() };
}

/** An open-loop generator: order i goes out at start + i/rate, whatever the answers before it. */
async function offer(pool: Pool, token: string, rate: number, seconds: number, order: (i: number) => { key: string; body: object }, onSent?: (p: Placed) => void): Promise<Placed[]> {
  const total = Math.round(rate * seconds);
  const placed: Placed[] = [];
  const inFlight: Promise<void>[] = [];
  const started = Date.now();
  for (let i = 0; i < total;) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
    for (; i < due; i++) {
      const { key, body } = order(i);
      const p: Placed = { key, sentAt: Date.now() };
      placed.push(p);
      onSent?.(p);
      inFlight.push(
        pool
          .request({
            path: '/api/v1/orders',
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key, 'x-correlation-id': key },
            body: JSON.stringify(body),
            headersTimeout: 60_000,
          })
          .then(
            async (res) => {
              p.answeredAt = Date.now();
              p.status = res.statusCode;
              const retryAfter = res.headers['retry-after'];
              p.retryAfter = typeof retryAfter === 'string' ? retryAfter : null;
              const json = (await res.body.json().catch(() => undefined)) as { orderId?: string } | undefined;
              if (json?.orderId) p.orderId = json.orderId;
            },
            () => {
              p.answeredAt = Date.now();
              p.status = 0;
            },
          ),
      );
    }
    await sleep(2);
  }
  await Promise.all(inFlight);
  return placed;
}

function stepFigures(
  rate: number,
  seconds: number,
  placed: Placed[],
  outcomes: Map<string, Outcome>,
  usage: Record<string, ProcessUsage>,
  eventLoopLagP99Ms: Record<string, number>,
  listenOverflows: number,
) {
  const statuses: Record<string, number> = {};
  for (const p of placed) statuses[String(p.status)] = (statuses[String(p.status)] ?? 0) + 1;
  const accepted = placed.filter((p) => p.status === 202);
  const settled = accepted.filter((p) => outcomes.has(p.key));
  const within = settled.filter((p) => outcomes.get(p.key)!.at - p.sentAt <= OUTCOME_WITHIN_MS).length;
  const shed = placed.filter((p) => p.status === 503 || p.status === 429);
  const fraction = within / placed.length;
  return {
    offeredPerSecond: rate,
    seconds,
    offered: placed.length,
    statuses,
    accepted: accepted.length,
    settled: settled.length,
    confirmed: settled.filter((p) => outcomes.get(p.key)!.type === 'OrderConfirmed').length,
    rejected: settled.filter((p) => outcomes.get(p.key)!.type === 'OrderRejected').length,
    withinTwoSeconds: Number(fraction.toFixed(4)),
    keepsUp: settled.length === accepted.length,
    passed: fraction >= 0.99 && settled.length === accepted.length,
    postAnswered: latencySummary(placed.filter((p) => p.answeredAt).map((p) => p.answeredAt! - p.sentAt)),
    shedAnswered: latencySummary(shed.map((p) => p.answeredAt! - p.sentAt)),
    postToOutcome: latencySummary(settled.map((p) => outcomes.get(p.key)!.at - p.sentAt)),
    processes: usage,
    eventLoopLagP99Ms,
    /** Connections the kernel dropped for a full accept queue during the step (they come back seconds later). */
    listenOverflows,
  };
}

/** Each service's event-loop delay p99 since the last scrape (prom-client resets it at every scrape), ms. */
async function eventLoopLag(system: RunningSystem): Promise<Record<string, number>> {
  const entries = await Promise.all(
    Object.entries(system.base).map(async ([name, url]) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const p99 = /^nodejs_eventloop_lag_p99_seconds\{[^}]*\} (\S+)$/m.exec(text)?.[1];
      return [name, p99 === undefined ? NaN : Math.round(Number(p99) * 1000)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

async function waitSettled(placed: Placed[], outcomes: Map<string, Outcome>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && placed.some((p) => p.status === 202 && !outcomes.has(p.key))) await sleep(100);
}

/** The raw loop's single-hop latency at a rate, and its throughput draining a backlog. */
async function rawLoop(kafka: Kafka, prefix: string, rate: number, seconds: number) {
  const input = `${prefix}raw.in`;
  const output = `${prefix}raw.out`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [input, output].map((topic) => ({ topic, numPartitions: 6, replicationFactor: 1 })) });
  await admin.disconnect();
  const loop = createPassthrough({ kafka, groupId: `${prefix}raw`, input, output, maxPerTransaction: 500, concurrency: 6 });
  await loop.start();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const seen = new Map<string, number>();
  const observer = kafka.consumer({ groupId: `${prefix}raw-observer`, maxWaitTimeInMs: 20 });
  let joined = false;
  observer.on(observer.events.GROUP_JOIN, () => (joined = true));
  await observer.connect();
  await observer.subscribe({ topic: output, fromBeginning: false });
  await observer.run({ eachMessage: async ({ message }) => void seen.set(message.key!.toString(), Date.now()) });
  while (!joined) await sleep(50);
  await sleep(1000);
  // Latency: one message per send, as the POSTs come, at the rate.
  const sentAt = new Map<string, number>();
  const total = Math.round(rate * seconds);
  const started = Date.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < total;) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
    for (; i < due; i++) {
      const key = `lat-${i}`;
      sentAt.set(key, Date.now());
      sends.push(producer.send({ topic: input, acks: -1, messages: [{ key, value: Buffer.alloc(200, 1) }] }));
    }
    await sleep(2);
  }
  await Promise.all(sends);
  const deadline = Date.now() + 30_000;
  while ([...sentAt.keys()].some((k) => !seen.has(k)) && Date.now() < deadline) await sleep(100);
  const latency = latencySummary([...sentAt].flatMap(([k, t]) => (seen.has(k) ? [seen.get(k)! - t] : [])));
  await observer.disconnect();
  // Throughput: a backlog of 20,000 small messages, stopped loop first.
  await loop.stop();
  const backlog = 20_000;
  for (let i = 0; i < backlog; i += 1000) {
    await producer.send({ topic: input, acks: -1, messages: Array.from({ length: 1000 }, (_, j) => ({ key: `tp-${i + j}`, value: Buffer.alloc(200, 1) })) });
  }
  const admin2 = kafka.admin();
  await admin2.connect();
  const end = async () => (await admin2.fetchTopicOffsets(output)).reduce((n, o) => n + Number(o.high), 0);
  const before = await end();
  const drain = createPassthrough({ kafka, groupId: `${prefix}raw`, input, output, maxPerTransaction: 500, concurrency: 6 });
  const t0 = Date.now();
  await drain.start();
  while ((await end()) - before < backlog) await sleep(50);
  const drainSeconds = (Date.now() - t0) / 1000;
  await drain.stop();
  await admin2.disconnect();
  await producer.disconnect();
  return { singleHop: { offeredPerSecond: rate, seconds, ...latency }, messagesPerSecond: Math.round(backlog / drainSeconds) };
}

export async function flashSaleBenchmark(): Promise<void> {
  const { prefix, config } = await freshNamespace('flash');
  const extraEnv = Object.fromEntries(
    (process.env.BENCH_FLASH_EXTRA_ENV ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
  const system = await startSystem(prefix, extraEnv);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench-flash', security: config.kafka.security, logger: quiet });
  let pool: Pool | undefined;
  try {
    const admin = await system.token('admin');
    const storefront = await system.token('storefront');
    console.log(`[flash-sale] creating ${PRODUCTS} products with 2 variants each; the ${HOT_VARIANTS} hottest variants have ${HOT_STOCK} units`);
    const variants: string[] = [];
    for (let p = 0; p < PRODUCTS; p++) {
      const stock = (v: number) => (p * 2 + v < HOT_VARIANTS ? HOT_STOCK : 1_000_000);
      const res = await fetch(`${system.base.product}/api/v1/products`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Flash ${p}`, category: 'flash', currency: 'EUR', variants: [0, 1].map((v) => ({ sku: `FL-${p}-${v}`, price: 10 + p + v, initialStock: stock(v) })) }),
      });
      const body = (await res.json()) as { variants: { id: string }[] };
      if (res.status !== 201) throw new Error(`could not create a product: ${res.status} ${JSON.stringify(body)}`);
      variants.push(...body.variants.map((v) => v.id));
    }
    // Every variant sells once inventory has its record and the product marked it ACTIVE.
    for (let tries = 0; ; tries++) {
      const views = await Promise.all(
        variants.map((id) => fetch(`${system.base.product}/api/v1/products/variants/${id}`, { headers: { authorization: `Bearer ${admin}` } }).then((r) => r.json() as Promise<{ status: string }>)),
      );
      if (views.every((v) => v.status === 'ACTIVE')) break;
      if (tries > 600) throw new Error('the catalogue did not become sellable');
      await sleep(100);
    }

    const trace = new Map<string, Record<string, number>>();
    const observer = await observeOutcomes(kafka, prefix, trace);
    // The storefront's connections, opened before the sale as a storefront's
    // backend or a load balancer keeps them: a busy Node server accepts one new
    // connection per event-loop iteration, so a sale that had to open them
    // would measure its accept queue (bench/PROFILE.md). undici's pool rather
    // than fetch: fetch's per-request cost made the generator the busiest process.
    pool = new Pool(system.base.order, { connections: CONNECTIONS });
    await Promise.all(Array.from({ length: CONNECTIONS }, () => pool!.request({ path: '/health/live', method: 'GET' }).then((r) => r.body.dump())));
    const pick = zipfSampler(variants.length, 1.1, 7);
    const run = crypto.randomBytes(3).toString('hex');
    let sequence = 0;
    const nextOrder = () => {
      const i = sequence++;
      const lines = 1 + (i % 3);
      const chosen = new Set<string>();
      while (chosen.size < lines) chosen.add(variants[pick()]!);
      return { key: `${run}-${i}`, body: { customerId: `customer-${crypto.randomInt(100_000)}`, items: [...chosen].map((variantId) => ({ variantId, quantity: 1 })) } };
    };

    const pids = watchedPids(system);
    const steps: ReturnType<typeof stepFigures>[] = [];
    let failedInARow = 0;
    for (const rate of RATES) {
      console.log(`[flash-sale] ${rate} orders/s for ${STEP_SECONDS}s`);
      await eventLoopLag(system);
      const usage = measureProcesses(pids);
      const overflowsBefore = listenOverflows();
      const placed = await offer(pool, storefront, rate, STEP_SECONDS, () => nextOrder());
      const processes = usage();
      const lag = await eventLoopLag(system);
      await waitSettled(placed, observer.outcomes, 20_000);
      const figures = stepFigures(rate, STEP_SECONDS, placed, observer.outcomes, processes, lag, listenOverflows() - overflowsBefore);
      steps.push(figures);
      console.log(
        `[flash-sale]   ${(figures.withinTwoSeconds * 100).toFixed(1)}% within 2 s; statuses ${JSON.stringify(figures.statuses)}; POST p99 ${figures.postAnswered.p99Ms} ms; outcome p99 ${figures.postToOutcome.p99Ms} ms; CPU ${JSON.stringify(processes)}; event-loop lag p99 ${JSON.stringify(lag)} ms; listen overflows ${figures.listenOverflows}`,
      );
      failedInARow = figures.passed ? 0 : failedInARow + 1;
      if (failedInARow >= 2) break;
      await sleep(3000);
    }
    // The knee is the last step of an unbroken run of passes from the start: a
    // pass above a failed step is noise, not capacity.
    const firstFailure = steps.findIndex((s) => !s.passed);
    const knee = Math.max(0, ...steps.slice(0, firstFailure < 0 ? steps.length : firstFailure).map((s) => s.offeredPerSecond));

    // Half the knee, traced hop by hop.
    // BENCH_FLASH_HALF_RATE traces another rate instead (to see where the time goes past the knee).
    const half = Number(process.env.BENCH_FLASH_HALF_RATE ?? Math.max(1, Math.round(knee / 2)));
    await observer.stop();
    const tracer = await observeOutcomes(kafka, prefix, trace, true);
    console.log(`[flash-sale] half the knee: ${half} orders/s for ${HALF_SECONDS}s, traced`);
    await eventLoopLag(system);
    const usage = measureProcesses(pids);
    const overflowsBefore = listenOverflows();
    const placed = await offer(
      pool,
      storefront,
      half,
      HALF_SECONDS,
      () => nextOrder(),
      (p) => trace.set(p.key, { sent: p.sentAt }),
    );
    const processes = usage();
    const lag = await eventLoopLag(system);
    await waitSettled(placed, tracer.outcomes, 20_000);
    const atHalf = stepFigures(half, HALF_SECONDS, placed, tracer.outcomes, processes, lag, listenOverflows() - overflowsBefore);
    const hop = (from: string, to: string) => latencySummary([...trace.values()].filter((h) => h[from] && h[to]).map((h) => h[to]! - h[from]!));
    const hops = {
      'POST sent -> PlaceOrder appended (pricing over the log, the append)': hop('sent', 'PlaceOrder'),
      'PlaceOrder -> OrderCreated (order processor)': hop('PlaceOrder', 'OrderCreated'),
      'OrderCreated -> last line reserved (inventory processor)': hop('OrderCreated', 'RecordReservationOutcome'),
      'last line reserved -> outcome (order processor)': hop('RecordReservationOutcome', 'OrderConfirmed'),
      'outcome written -> seen by a read_committed consumer': hop('OrderConfirmed', 'observed'),
    };
    await tracer.stop();

    console.log(`[flash-sale] raw kafkajs transactional loop at ${half} messages/s`);
    const raw = await rawLoop(kafka, prefix, half, HALF_SECONDS);
    const ratio = atHalf.postToOutcome.p99Ms / raw.singleHop.p99Ms;
    const result = {
      workload: {
        products: PRODUCTS,
        variants: variants.length,
        hotVariants: HOT_VARIANTS,
        hotStock: HOT_STOCK,
        zipfS: 1.1,
        linesPerOrder: '1-3',
        stepSeconds: STEP_SECONDS,
        identity: 'storefront',
        extraEnv,
      },
      knee,
      steps,
      atHalfKnee: { ...atHalf, hops },
      rawLoop: raw,
      targets: { knee: { wanted: 500, measured: knee }, p99PostToOutcomeOverRawHopP99: { wanted: 3, measured: Number(ratio.toFixed(2)) } },
    };
    const row = (s: (typeof steps)[number]) =>
      `| ${s.offeredPerSecond} | ${(s.withinTwoSeconds * 100).toFixed(1)}% | ${s.accepted} / ${s.offered} | ${s.statuses['503'] ?? 0} | ${s.confirmed} / ${s.rejected} | ${s.postAnswered.p50Ms} / ${s.postAnswered.p99Ms} ms | ${s.postToOutcome.p50Ms} / ${s.postToOutcome.p99Ms} ms | ${Object.entries(
        s.processes,
      )
        .map(([n, u]) => `${n} ${u.cores}`)
        .join(', ')} | ${s.passed ? 'yes' : 'no'} |`;
    const summary = `
## Flash-sale benchmark (\`npm run bench -- flash-sale\`)

The three services as separate processes; a storefront token places orders of 1-3 lines for random customers over ${variants.length} variants (Zipf s = 1.1; the ${HOT_VARIANTS} hottest have ${HOT_STOCK} units and run out), ${STEP_SECONDS} s per step.

**Knee: ${knee} orders/s** (the highest rate at which at least 99% of the orders offered reached CONFIRMED or REJECTED within 2 s, and every accepted order reached its outcome, with every lower step passing too).

| offered/s | outcome within 2 s | accepted / offered | shed (503) | confirmed / rejected | POST answered p50 / p99 | POST -> outcome p50 / p99 | CPU (cores) | passed |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${steps.map(row).join('\n')}

At half the knee (${half} orders/s for ${HALF_SECONDS} s): POST answered p50 ${atHalf.postAnswered.p50Ms} ms, p99 ${atHalf.postAnswered.p99Ms} ms; POST -> outcome p50 ${atHalf.postToOutcome.p50Ms} ms, p99 ${atHalf.postToOutcome.p99Ms} ms. Memory (peak RSS, MiB): ${Object.entries(
      atHalf.processes,
    )
      .map(([n, u]) => `${n} ${u.maxRssMiB}`)
      .join(', ')}.

| hop (at half the knee) | p50 | p99 |
| --- | --- | --- |
${Object.entries(hops)
  .map(([name, h]) => `| ${name} | ${h.p50Ms} ms | ${h.p99Ms} ms |`)
  .join('\n')}

Raw kafkajs transactional loop, same run: ${raw.messagesPerSecond} messages/s draining a backlog; single hop at ${half} messages/s p50 ${raw.singleHop.p50Ms} ms, p99 ${raw.singleHop.p99Ms} ms. POST -> outcome p99 over the raw single-hop p99: **${ratio.toFixed(2)}** (target at most 3).
`;
    const file = record('flash-sale', result, summary);
    console.log(summary);
    console.log(`[flash-sale] recorded ${file}`);
  } finally {
    await pool?.close();
    await system.stop();
  }
}
