// npm run bench -- reservations
//
// Reservations per second through the real reservation processor (decode,
// decide, encode, events + offsets in one transaction), from command appended
// to outcome event, against a raw kafkajs transactional consume->produce loop
// with a no-op transform on topics of the same shape, in the same run.
//
// Workload: ReserveStock commands over 10,000 variants drawn from a Zipf
// distribution (s = 1.1: a few variants are hot and run out of stock).
//   1. throughput: a backlog of commands is written first; each contender then
//      drains it; the rate is the backlog over the span between its first and
//      last output record.
//   2. latency: a steady offered load; latency is from just before a command is
//      appended to its outcome reaching a read_committed consumer.
import crypto from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { inventoryAggregate } from '../services/inventory/aggregate.ts';
import { HEADER, headerText } from '../services/platform/headers.ts';
import { createKafka } from '../services/platform/kafka/client.ts';
import { readPartitions } from '../services/platform/kafka/partition-reader.ts';
import { createLogger } from '../services/platform/logger.ts';
import { createCommandSender, type CommandSender } from '../services/platform/messaging/command-sender.ts';
import { createCommandProcessor } from '../services/platform/processing/command-processor.ts';
import { createCodec, type Codec } from '../services/platform/schemas/codec.ts';
import { topicsFor, type TopicMessage } from '../services/platform/topics.ts';
import type { InventoryCommands } from '../schemas/generated/inventory.commands.ts';
import { createPassthrough } from './baseline/transactional-passthrough.ts';
import { freshNamespace, latencySummary, record, sleep, zipfSampler } from './support.ts';

const VARIANTS = 10_000;
const STOCK_PER_VARIANT = 200;
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 50_000);
const MAX_PER_TRANSACTION = Number(process.env.BENCH_MAX_PER_TRANSACTION ?? 500);
const OFFERED_RATE = Number(process.env.BENCH_OFFERED_RATE ?? 1000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 15);
const quiet = createLogger('bench', 'error');

type Command = TopicMessage<InventoryCommands>;

function reserveStream(count: number, seed: number): Command[] {
  const next = zipfSampler(VARIANTS, 1.1, seed);
  return Array.from({ length: count }, (_, i) => ({
    type: 'ReserveStock',
    data: { productVariantId: `variant-${next()}`, reservationId: `s${seed}-${i}`, orderId: null, quantity: 1 + (i % 3), ttlSeconds: 3600 },
  }));
}

async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

async function totalEnd(kafka: Kafka, topic: string): Promise<bigint> {
  return [...(await endOffsets(kafka, topic)).values()].reduce((a, b) => a + b, 0n);
}

/** First and last timestamps of the records written between two sets of end offsets. */
async function writeSpan(kafka: Kafka, topic: string, from: Map<number, bigint>, to: Map<number, bigint>) {
  let first = Infinity;
  let last = -Infinity;
  let records = 0;
  await readPartitions({
    kafka,
    topic,
    ranges: [...to].map(([partition, end]) => ({ partition, from: from.get(partition) ?? 0n, to: end })),
    onBatch: (_p, messages: KafkaMessage[]) => {
      for (const m of messages) {
        const t = Number(m.timestamp);
        if (t < first) first = t;
        if (t > last) last = t;
        records++;
      }
    },
  });
  return { first, last, records, seconds: (last - first) / 1000 };
}

async function sendAll(sender: CommandSender, topic: ReturnType<typeof topicsFor>['inventoryCommands'], commands: Command[]) {
  for (let i = 0; i < commands.length; i += 1000) await sender.sendMany(topic, commands.slice(i, i + 1000));
}

export async function reservationsBenchmark(): Promise<void> {
  const { prefix, config } = await freshNamespace('reservations');
  const topics = topicsFor(prefix);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench', security: config.kafka.security, logger: quiet });
  const codec: Codec = await createCodec({ registryUrl: config.schemaRegistryUrl, writes: [topics.inventoryCommands, topics.inventoryEvents] });
  const sender = createCommandSender(kafka, codec, 'bench');
  await sender.connect();
  const baselineIn = `${prefix}baseline.in`;
  const baselineOut = `${prefix}baseline.out`;
  // The raw transactional loop the processor is measured against, on the same partitions and transaction size.
  const baselineLoop = (onTransaction?: (commands: number) => void) =>
    createPassthrough({
      kafka: createKafka({ brokers: config.kafka.brokers, clientId: 'bench-baseline', security: config.kafka.security, logger: quiet }),
      groupId: `${prefix}baseline`,
      input: baselineIn,
      output: baselineOut,
      maxPerTransaction: MAX_PER_TRANSACTION,
      concurrency: topics.inventoryCommands.partitions,
      ...(onTransaction ? { onTransaction } : {}),
    });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [baselineIn, baselineOut].map((topic) => ({ topic, numPartitions: topics.inventoryCommands.partitions, replicationFactor: 1 })),
  });

  let decided = 0;
  const transactionSizes: number[] = [];
  const processor = () =>
    createCommandProcessor({
      kafka: createKafka({ brokers: config.kafka.brokers, clientId: 'bench-processor', security: config.kafka.security, logger: quiet }),
      codec,
      definition: inventoryAggregate(topics),
      groupId: `${prefix}inventory-processor`,
      logger: quiet,
      maxPerTransaction: MAX_PER_TRANSACTION,
      onDecided: () => decided++,
      onTransaction: ({ messages }) => transactionSizes.push(messages),
    });
  const waitDecided = async (n: number, what: string) => {
    const deadline = Date.now() + 600_000;
    while (decided < n) {
      if (Date.now() > deadline) throw new Error(`${what}: only ${decided} of ${n} decided`);
      await sleep(50);
    }
  };

  console.log(`[reservations] initialising ${VARIANTS} variants with ${STOCK_PER_VARIANT} units each`);
  let p = processor();
  await p.start();
  await sendAll(sender, topics.inventoryCommands, Array.from({ length: VARIANTS }, (_, i) => ({
    type: 'InitializeInventory',
    data: { productVariantId: `variant-${i}`, productId: `product-${i % 500}`, sku: `SKU-${i}`, initialStock: STOCK_PER_VARIANT, lowStockThreshold: 10 },
  }) as Command));
  await waitDecided(VARIANTS, 'initialisation');
  await p.stop();

  // 1. Throughput: the same backlog for both contenders.
  console.log(`[reservations] writing a backlog of ${COMMANDS} reservations (Zipf s=1.1 over ${VARIANTS} variants)`);
  const backlog = reserveStream(COMMANDS, 1);
  const commandsBefore = await endOffsets(kafka, topics.inventoryCommands.name);
  await sendAll(sender, topics.inventoryCommands, backlog);
  const commandsAfter = await endOffsets(kafka, topics.inventoryCommands.name);
  // Copy those exact command records (bytes, keys, headers, partitions) as the baseline's input.
  const copier = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await copier.connect();
  await readPartitions({
    kafka,
    topic: topics.inventoryCommands.name,
    ranges: [...commandsAfter].map(([partition, to]) => ({ partition, from: commandsBefore.get(partition) ?? 0n, to })),
    onBatch: async (partition, messages) => {
      for (let i = 0; i < messages.length; i += 1000) {
        await copier.send({ topic: baselineIn, acks: -1, messages: messages.slice(i, i + 1000).map((m) => ({ key: m.key, value: m.value, headers: m.headers ?? {}, partition })) });
      }
    },
  });
  await copier.disconnect();

  console.log('[reservations] draining the backlog through the reservation processor');
  const eventsBefore = await endOffsets(kafka, topics.inventoryEvents.name);
  decided = 0;
  transactionSizes.length = 0;
  p = processor();
  await p.start();
  await waitDecided(COMMANDS, 'processor drain');
  await p.stop();
  const processorSpan = await writeSpan(kafka, topics.inventoryEvents.name, eventsBefore, await endOffsets(kafka, topics.inventoryEvents.name));
  const processorTransactions = [...transactionSizes];

  console.log('[reservations] draining the same backlog through the raw transactional loop');
  const baselineTransactions: number[] = [];
  const baseline = baselineLoop((n) => baselineTransactions.push(n));
  await baseline.start();
  while ((await totalEnd(kafka, baselineOut)) < BigInt(COMMANDS)) await sleep(100);
  await baseline.stop();
  const baselineSpan = await writeSpan(kafka, baselineOut, new Map(), await endOffsets(kafka, baselineOut));

  // 2. Latency at a steady offered load, each contender on its own.
  const latencyOf = async (start: () => Promise<() => Promise<void>>, topic: string, send: (batch: Command[]) => Promise<string[]>) => {
    const sentAt = new Map<string, number>();
    const samples: number[] = [];
    const observer = kafka.consumer({ groupId: `${prefix}observer-${crypto.randomUUID()}`, maxWaitTimeInMs: 10 });
    await observer.connect();
    await observer.subscribe({ topic, fromBeginning: false });
    let joined = false;
    observer.on(observer.events.GROUP_JOIN, () => (joined = true));
    await observer.run({
      eachMessage: async ({ message }) => {
        const id = headerText(message.headers, HEADER.causationId) ?? headerText(message.headers, HEADER.id);
        const index = headerText(message.headers, HEADER.outcomeIndex);
        const t = id ? sentAt.get(id) : undefined;
        if (t !== undefined && (index === undefined || index === '0')) {
          samples.push(Date.now() - t);
          sentAt.delete(id!);
        }
      },
    });
    while (!joined) await sleep(50);
    await sleep(500);
    const stop = await start();
    const perTick = Math.max(1, Math.round(OFFERED_RATE / 100));
    const stream = reserveStream(OFFERED_RATE * LATENCY_SECONDS, Date.now() % 100_000);
    const begin = Date.now();
    for (let i = 0, tick = 0; i < stream.length; i += perTick, tick++) {
      const wait = begin + tick * 10 - Date.now();
      if (wait > 0) await sleep(wait);
      const batch = stream.slice(i, i + perTick);
      const t = Date.now();
      for (const id of await send(batch)) sentAt.set(id, t);
    }
    const deadline = Date.now() + 30_000;
    while (samples.length < stream.length && Date.now() < deadline) await sleep(100);
    await stop();
    await observer.disconnect();
    return { offeredPerSecond: OFFERED_RATE, seconds: LATENCY_SECONDS, ...latencySummary(samples), missing: stream.length - samples.length };
  };

  console.log(`[reservations] latency at ${OFFERED_RATE} commands/s for ${LATENCY_SECONDS}s: processor`);
  const processorLatency = await latencyOf(
    async () => {
      const q = processor();
      await q.start();
      await sleep(2000); // let it restore and settle
      return () => q.stop();
    },
    topics.inventoryEvents.name,
    async (batch) => (await sender.sendMany(topics.inventoryCommands, batch)).map((s) => s.commandId),
  );
  console.log(`[reservations] latency at ${OFFERED_RATE} commands/s for ${LATENCY_SECONDS}s: baseline`);
  const rawProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await rawProducer.connect();
  const baselineLatency = await latencyOf(
    async () => {
      const b = baselineLoop();
      await b.start();
      await sleep(2000);
      return () => b.stop();
    },
    baselineOut,
    async (batch) => {
      const ids = batch.map(() => crypto.randomUUID());
      const values = await Promise.all(batch.map((c) => codec.encode(topics.inventoryCommands, c)));
      await rawProducer.send({ topic: baselineIn, acks: -1, messages: batch.map((c, i) => ({ key: c.data.productVariantId, value: values[i]!, headers: { [HEADER.id]: ids[i]! } })) });
      return ids;
    },
  );
  await rawProducer.disconnect();
  await sender.disconnect();
  await admin.disconnect();

  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const processorRate = COMMANDS / processorSpan.seconds;
  const baselineRate = COMMANDS / baselineSpan.seconds;
  const ratio = processorRate / baselineRate;
  const result = {
    workload: { variants: VARIANTS, stockPerVariant: STOCK_PER_VARIANT, commands: COMMANDS, zipfS: 1.1, partitions: topics.inventoryCommands.partitions, maxPerTransaction: MAX_PER_TRANSACTION },
    throughput: {
      processor: { reservationsPerSecond: Math.round(processorRate), seconds: processorSpan.seconds, outcomeRecords: processorSpan.records, transactions: processorTransactions.length, commandsPerTransaction: Number(mean(processorTransactions).toFixed(1)) },
      baseline: { messagesPerSecond: Math.round(baselineRate), seconds: baselineSpan.seconds, transactions: baselineTransactions.length, messagesPerTransaction: Number(mean(baselineTransactions).toFixed(1)) },
      ratio: Number(ratio.toFixed(2)),
      target: 0.8,
    },
    latency: { processor: processorLatency, baseline: baselineLatency },
  };
  const summary = `
## Reservations benchmark (\`npm run bench -- reservations\`)

${COMMANDS} ReserveStock commands, Zipf (s = 1.1) over ${VARIANTS} variants, ${topics.inventoryCommands.partitions} partitions, at most ${MAX_PER_TRANSACTION} commands per transaction.

| | throughput | commands per transaction | p50 latency | p99 latency (at ${OFFERED_RATE}/s) |
| --- | --- | --- | --- | --- |
| reservation processor | ${result.throughput.processor.reservationsPerSecond}/s | ${result.throughput.processor.commandsPerTransaction} | ${processorLatency.p50Ms} ms | ${processorLatency.p99Ms} ms |
| raw kafkajs transactional loop (no-op) | ${result.throughput.baseline.messagesPerSecond}/s | ${result.throughput.baseline.messagesPerTransaction} | ${baselineLatency.p50Ms} ms | ${baselineLatency.p99Ms} ms |

Ratio (processor / baseline throughput): **${result.throughput.ratio}** (target 0.8).
`;
  const file = record('reservations', result, summary);
  console.log(summary);
  console.log(`[reservations] recorded ${file}`);
}
