// npm run bench -- reservations
//
// Reservations per second through the real reservation processor (decode,
// decide, encode, events + offsets in one transaction), from command appended
// to outcome event, against a raw kafkajs transactional consume->produce loop
// with a no-op transform on topics of the same shape, in the same run; and
// against a Kafka Streams peer making the same decision (bench/peers/README.md),
// under Streams' default commit interval and under the one we think fair.
//
// Workload: ReserveStock commands over 10,000 variants drawn from a Zipf
// distribution (s = 1.1: a few variants are hot and run out of stock).
//   1. throughput: a backlog of commands is written first; each contender then
//      drains it; the rate is the backlog over the span between its first and
//      last output record.
//   2. latency: a steady offered load; latency is from just before a command is
//      appended to its outcome reaching a read_committed consumer.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { inventoryAggregate } from '../services/inventory/aggregate.ts';
import { HEADER, headerText } from '../services/platform/headers.ts';
import { createKafka } from '../services/platform/kafka/client.ts';
import { readPartitions } from '../services/platform/kafka/partition-reader.ts';
import { createLogger } from '../services/platform/logger.ts';
import { createCommandSender, type CommandSender } from '../services/platform/messaging/command-sender.ts';
import { createCommandProcessor, processorWrites } from '../services/platform/processing/command-processor.ts';
import { createCodec, type Codec } from '../services/platform/schemas/codec.ts';
import { readTopologyFile, resolveTopology } from '../services/platform/topology/declaration.ts';
import { type TopicDescriptor, type TopicMessage } from '../services/platform/topics.ts';
import { topicsFor } from '../services/topics.ts';
import type { InventoryCommands } from '../schemas/generated/inventory.commands.ts';
import type { InventoryEvents } from '../schemas/generated/inventory.events.ts';
import { createPassthrough } from './baseline/transactional-passthrough.ts';
import {
  ensurePeerJar,
  KAFKA_STREAMS_VERSION,
  PEER_HEAP_MB,
  PEER_SETTINGS,
  peerSchemas,
  startKafkaStreamsPeer,
  STREAMS_EOS_DEFAULT_COMMIT_MS,
  type Peer,
  type PeerSchema,
  type PeerStats,
} from './peers/kafka-streams.ts';
import { profiled } from './profile.ts';
import { freshNamespace, latencySummary, record, sleep, zipfSampler } from './support.ts';

const VARIANTS = 10_000;
const STOCK_PER_VARIANT = 200;
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 50_000);
const MAX_PER_TRANSACTION = Number(process.env.BENCH_MAX_PER_TRANSACTION ?? 500);
const OFFERED_RATE = Number(process.env.BENCH_OFFERED_RATE ?? 1000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 15);
const quiet = createLogger('bench', 'error');

type Command = TopicMessage<InventoryCommands>;

/**
 * The Kafka Streams peer is measured twice: with the settings we think fair
 * (PEER_SETTINGS, bench/peers/README.md says why), and with Streams' default
 * commit interval under exactly-once, so neither choice hides the other.
 */
const PEER_COMMIT_INTERVAL_MS = Number(process.env.BENCH_PEER_COMMIT_INTERVAL_MS ?? PEER_SETTINGS['commit.interval.ms']);
const PEER_RUNS = [
  { key: 'chosen', slug: 'streams', settings: { ...PEER_SETTINGS, 'commit.interval.ms': PEER_COMMIT_INTERVAL_MS } },
  { key: 'defaultCommit', slug: 'streams-default-commit', settings: { ...PEER_SETTINGS, 'commit.interval.ms': STREAMS_EOS_DEFAULT_COMMIT_MS } },
] as const;

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

/** The same over the last `count` records of a whole topic, by timestamp; the topic must hold exactly `total`. */
async function lastWriteSpan(kafka: Kafka, topic: string, total: number, count: number) {
  const times: number[] = [];
  await readPartitions({
    kafka,
    topic,
    ranges: [...(await endOffsets(kafka, topic))].map(([partition, to]) => ({ partition, from: 0n, to })),
    onBatch: (_p, messages: KafkaMessage[]) => {
      for (const m of messages) times.push(Number(m.timestamp));
    },
  });
  // One record per command: anything else is not the decision we compare.
  if (times.length !== total) throw new Error(`${topic} holds ${times.length} records, expected ${total}, one for each command`);
  times.sort((a, b) => a - b);
  const first = times[times.length - count]!;
  const last = times[times.length - 1]!;
  return { first, last, records: count, seconds: (last - first) / 1000 };
}

/**
 * Partition, record type and content of each InventoryRecordInitialized (by
 * `init <variant>`) and each StockReserved or ReservationRejected (by
 * reservationId); other records are counted.
 */
async function decisions(kafka: Kafka, codec: Codec, topic: TopicDescriptor<InventoryEvents>, from: Map<number, bigint>, to: Map<number, bigint>) {
  const outcomes = new Map<string, string>();
  let others = 0;
  await readPartitions({
    kafka,
    topic: topic.name,
    ranges: [...to].map(([partition, end]) => ({ partition, from: from.get(partition) ?? 0n, to: end })),
    onBatch: async (partition, messages) => {
      for (const m of messages) {
        const { message } = codec.decodeKnown(topic, m.value) ?? (await codec.decode(topic, m.value));
        if (message.type === 'StockReserved' || message.type === 'ReservationRejected') {
          outcomes.set(message.data.reservationId, `${partition} ${message.type} ${JSON.stringify(message.data)}`);
        } else if (message.type === 'InventoryRecordInitialized') {
          outcomes.set(`init ${message.data.productVariantId}`, `${partition} ${message.type} ${JSON.stringify(message.data)}`);
        } else {
          others++;
        }
      }
    },
  });
  return { outcomes, others };
}

function describeSettings(settings: Record<string, number>): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

async function sendAll(sender: CommandSender, topic: ReturnType<typeof topicsFor>['inventoryCommands'], commands: Command[]) {
  for (let i = 0; i < commands.length; i += 1000) await sender.sendMany(topic, commands.slice(i, i + 1000));
}

export async function reservationsBenchmark(): Promise<void> {
  // Built (or found up to date) before anything else, so a missing Maven or Java fails the run at once.
  ensurePeerJar();
  const peerStateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-peer-'));
  try {
    await benchmark(peerStateRoot);
  } finally {
    fs.rmSync(peerStateRoot, { recursive: true, force: true });
  }
}

async function benchmark(peerStateRoot: string): Promise<void> {
  // The machine is shared: the load averages around the run tell a quiet run from a crowded one.
  const loadAtStart = os.loadavg().map((l) => Number(l.toFixed(2)));
  const { prefix, config } = await freshNamespace('reservations');
  const topics = topicsFor(prefix);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench', security: config.kafka.security, logger: quiet });
  const codec: Codec = await createCodec({ registryUrl: config.schemaRegistryUrl, writes: processorWrites(inventoryAggregate(topics)) });
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

  // The peer's output topics are shaped as inventory.events (partitions,
  // retention); Streams creates its changelog topics itself.
  const eventsTopic = resolveTopology(readTopologyFile(), { profile: config.kafka.profile, prefix }).find((d) => d.baseName === topics.inventoryEvents.baseName);
  if (!eventsTopic) throw new Error(`topology/topics.yaml declares no ${topics.inventoryEvents.baseName}`);
  const peerRuns: { key: (typeof PEER_RUNS)[number]['key']; settings: Record<string, number>; applicationId: string; output: TopicDescriptor<InventoryEvents>; schemas: PeerSchema[] }[] = [];
  for (const run of PEER_RUNS) {
    const output = { ...topics.inventoryEvents, name: `${prefix}peer.${run.slug}.${topics.inventoryEvents.baseName}` };
    peerRuns.push({
      key: run.key,
      settings: run.settings,
      applicationId: `${prefix}peer-${run.slug}`,
      output,
      schemas: await peerSchemas(codec.registry, config.schemaRegistryUrl, topics.inventoryCommands, output.name),
    });
  }
  await admin.createTopics({
    waitForLeaders: true,
    topics: peerRuns.map((r) => ({
      topic: r.output.name,
      numPartitions: eventsTopic.partitions,
      replicationFactor: eventsTopic.replicationFactor,
      configEntries: Object.entries(eventsTopic.configs).map(([name, value]) => ({ name, value })),
    })),
  });
  const startPeer = (run: (typeof peerRuns)[number]) =>
    startKafkaStreamsPeer({
      brokers: config.kafka.brokers,
      security: config.kafka.security,
      applicationId: run.applicationId,
      input: topics.inventoryCommands.name,
      output: run.output.name,
      stateDir: path.join(peerStateRoot, run.key),
      schemas: run.schemas,
      settings: run.settings,
    });
  /** Until the peer's group has committed (in its transactions) every offset up to `ends`. */
  const waitCommitted = async (peer: Peer, groupId: string, ends: Map<number, bigint>, what: string) => {
    const deadline = Date.now() + 600_000;
    for (;;) {
      peer.assertRunning();
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.inventoryCommands.name] });
      const behind = [...ends].filter(([partition, end]) => BigInt(committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1') < end);
      if (behind.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${what}: partitions ${behind.map(([p]) => p).join(', ')} not committed after 600 s`);
      await sleep(100);
    }
  };

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
  await sendAll(
    sender,
    topics.inventoryCommands,
    Array.from({ length: VARIANTS }, (_, i) => ({
      type: 'InitializeInventory',
      data: { productVariantId: `variant-${i}`, productId: `product-${i % 500}`, sku: `SKU-${i}`, initialStock: STOCK_PER_VARIANT, lowStockThreshold: 10 },
    })),
  );
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
  await profiled('reservations-processor-drain', async () => {
    await p.start();
    await waitDecided(COMMANDS, 'processor drain');
  });
  await p.stop();
  const eventsAfter = await endOffsets(kafka, topics.inventoryEvents.name);
  const processorSpan = await writeSpan(kafka, topics.inventoryEvents.name, eventsBefore, eventsAfter);
  const processorTransactions = [...transactionSizes];

  console.log('[reservations] draining the same backlog through the raw transactional loop');
  const baselineTransactions: number[] = [];
  const baseline = baselineLoop((n) => baselineTransactions.push(n));
  await baseline.start();
  while ((await totalEnd(kafka, baselineOut)) < BigInt(COMMANDS)) await sleep(100);
  await baseline.stop();
  const baselineSpan = await writeSpan(kafka, baselineOut, new Map(), await endOffsets(kafka, baselineOut));

  // The peer reads the commands topic from its start: it initialises the
  // variants (the JVM warms up on them, as the processor's Node process did),
  // then decides the same backlog.
  const processorDecisions = await decisions(kafka, codec, topics.inventoryEvents, new Map(), eventsAfter);
  const compared = [...Array.from({ length: VARIANTS }, (_, i) => `init variant-${i}`), ...backlog.flatMap((c) => (c.type === 'ReserveStock' ? [c.data.reservationId] : []))];
  const peerDrains: { rate: number; span: Awaited<ReturnType<typeof lastWriteSpan>>; stats: PeerStats | undefined; compared: number }[] = [];
  for (const run of peerRuns) {
    console.log(`[reservations] draining the same backlog through the Kafka Streams peer (${describeSettings(run.settings)})`);
    const peer = await startPeer(run);
    let stats: PeerStats | undefined;
    try {
      await waitCommitted(peer, run.applicationId, commandsAfter, 'Kafka Streams peer drain');
    } finally {
      stats = await peer.stop();
    }
    const span = await lastWriteSpan(kafka, run.output.name, VARIANTS + COMMANDS, COMMANDS);
    // Same partition, same event, same content (versions included) for every command, or the comparison means nothing.
    const peerDecisions = await decisions(kafka, codec, run.output, new Map(), await endOffsets(kafka, run.output.name));
    const differing = compared.filter((id) => peerDecisions.outcomes.get(id) === undefined || peerDecisions.outcomes.get(id) !== processorDecisions.outcomes.get(id));
    if (differing.length > 0 || peerDecisions.others > 0) {
      const show = differing
        .slice(0, 3)
        .map((id) => `\n  ${id}: processor ${processorDecisions.outcomes.get(id) ?? 'nothing'}\n  ${' '.repeat(id.length)}  peer      ${peerDecisions.outcomes.get(id) ?? 'nothing'}`);
      throw new Error(`the Kafka Streams peer decided ${differing.length} of ${compared.length} commands differently (and wrote ${peerDecisions.others} other records):${show.join('')}`);
    }
    peerDrains.push({ rate: COMMANDS / span.seconds, span, stats, compared: compared.length });
  }

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
      const values = batch.map((c) => codec.encode(topics.inventoryCommands, c));
      await rawProducer.send({ topic: baselineIn, acks: -1, messages: batch.map((c, i) => ({ key: c.data.productVariantId, value: values[i]!, headers: { [HEADER.id]: ids[i]! } })) });
      return ids;
    },
  );
  await rawProducer.disconnect();
  const peerLatencies: Awaited<ReturnType<typeof latencyOf>>[] = [];
  for (const run of peerRuns) {
    console.log(`[reservations] latency at ${OFFERED_RATE} commands/s for ${LATENCY_SECONDS}s: Kafka Streams peer (${describeSettings(run.settings)})`);
    peerLatencies.push(
      await latencyOf(
        async () => {
          const peer = await startPeer(run);
          try {
            // The other contenders' latency commands came after its drain: it decides them before the clock starts,
            // as the others start with nothing to catch up.
            await waitCommitted(peer, run.applicationId, await endOffsets(kafka, topics.inventoryCommands.name), 'Kafka Streams peer catch-up');
          } catch (error) {
            await peer.stop();
            throw error;
          }
          await sleep(2000);
          return async () => {
            try {
              peer.assertRunning();
            } finally {
              await peer.stop();
            }
          };
        },
        run.output.name,
        async (batch) => (await sender.sendMany(topics.inventoryCommands, batch)).map((s) => s.commandId),
      ),
    );
  }
  await sender.disconnect();
  await admin.disconnect();

  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const processorRate = COMMANDS / processorSpan.seconds;
  const baselineRate = COMMANDS / baselineSpan.seconds;
  const ratio = processorRate / baselineRate;
  const two = (x: number) => Number(x.toFixed(2));
  const peers = peerRuns.map((run, i) => ({ run, drain: peerDrains[i]!, latency: peerLatencies[i]! }));
  const perPeer = <T>(f: (p: (typeof peers)[number]) => T) => Object.fromEntries(peers.map((p) => [p.run.key, f(p)]));
  const result = {
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg().map((l) => Number(l.toFixed(2))) },
    workload: { variants: VARIANTS, stockPerVariant: STOCK_PER_VARIANT, commands: COMMANDS, zipfS: 1.1, partitions: topics.inventoryCommands.partitions, maxPerTransaction: MAX_PER_TRANSACTION },
    throughput: {
      processor: {
        reservationsPerSecond: Math.round(processorRate),
        seconds: processorSpan.seconds,
        outcomeRecords: processorSpan.records,
        transactions: processorTransactions.length,
        commandsPerTransaction: Number(mean(processorTransactions).toFixed(1)),
      },
      baseline: {
        messagesPerSecond: Math.round(baselineRate),
        seconds: baselineSpan.seconds,
        transactions: baselineTransactions.length,
        messagesPerTransaction: Number(mean(baselineTransactions).toFixed(1)),
      },
      ratio: Number(ratio.toFixed(2)),
      target: 0.8,
      kafkaStreams: perPeer(({ run, drain }) => ({
        version: KAFKA_STREAMS_VERSION,
        jvmHeapMb: PEER_HEAP_MB,
        settings: { 'processing.guarantee': 'exactly_once_v2', ...run.settings },
        reservationsPerSecond: Math.round(drain.rate),
        seconds: drain.span.seconds,
        outcomeRecords: drain.span.records,
        // Over its whole drain, the initialisations included; null if it did not close cleanly.
        commandsRead: drain.stats?.commands ?? null,
        transactions: drain.stats?.commits ?? null,
        commandsPerTransaction: drain.stats?.commits ? Number((drain.stats.commands / drain.stats.commits).toFixed(1)) : null,
        // Initialisations and reservations whose event matched the processor's exactly.
        decisionsSameAsProcessor: drain.compared,
      })),
      processorToKafkaStreams: perPeer(({ drain }) => two(processorRate / drain.rate)),
      kafkaStreamsToBaseline: perPeer(({ drain }) => two(drain.rate / baselineRate)),
    },
    latency: { processor: processorLatency, baseline: baselineLatency, kafkaStreams: perPeer(({ latency }) => latency) },
  };
  const peerRows = peers
    .map(({ run, drain, latency }) => {
      const perCommit = drain.stats?.commits ? `${(drain.stats.commands / drain.stats.commits).toFixed(1)}*` : 'n/a';
      return `| Kafka Streams peer, commit.interval.ms=${run.settings['commit.interval.ms']}${run.settings['commit.interval.ms'] === STREAMS_EOS_DEFAULT_COMMIT_MS ? ' (EOS default)' : ''} | ${Math.round(drain.rate)}/s | ${perCommit} | ${latency.p50Ms} ms | ${latency.p99Ms} ms |`;
    })
    .join('\n');
  const peerRatios = peers
    .map(
      ({ run, drain }) =>
        `**${two(processorRate / drain.rate)}** against commit.interval.ms=${run.settings['commit.interval.ms']} (the peer itself: ${two(drain.rate / baselineRate)} of the baseline)`,
    )
    .join('; ');
  const summary = `
## Reservations benchmark (\`npm run bench -- reservations\`)

${COMMANDS} ReserveStock commands, Zipf (s = 1.1) over ${VARIANTS} variants, ${topics.inventoryCommands.partitions} partitions, at most ${MAX_PER_TRANSACTION} commands per transaction.

| | throughput | commands per transaction | p50 latency | p99 latency (at ${OFFERED_RATE}/s) |
| --- | --- | --- | --- | --- |
| reservation processor | ${result.throughput.processor.reservationsPerSecond}/s | ${result.throughput.processor.commandsPerTransaction} | ${processorLatency.p50Ms} ms | ${processorLatency.p99Ms} ms |
| raw kafkajs transactional loop (no-op) | ${result.throughput.baseline.messagesPerSecond}/s | ${result.throughput.baseline.messagesPerTransaction} | ${baselineLatency.p50Ms} ms | ${baselineLatency.p99Ms} ms |
${peerRows}

Ratio (processor / baseline throughput): **${result.throughput.ratio}** (target 0.8).

Ratio (processor / Kafka Streams peer throughput): ${peerRatios}. The peer (Kafka Streams ${KAFKA_STREAMS_VERSION}, exactly_once_v2, -Xmx${PEER_HEAP_MB}m; bench/peers/README.md) made the same decision as the processor, event for event, for all ${VARIANTS} initialisations and ${COMMANDS} reservations; it writes no status announcements.

\\* Transactions of the peer's whole drain, initialisations included: one per commit, for all partitions of its stream thread.
`;
  const file = record('reservations', result, summary);
  console.log(summary);
  console.log(`[reservations] recorded ${file}`);
}
