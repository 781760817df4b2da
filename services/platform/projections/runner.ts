// Keeps a service's read models up to date: one consumer reads every partition
// of every topic its projections need (each instance holds a full replica, so
// any instance can answer any query), and each fetched batch is applied to
// each projection in one SQLite transaction together with its checkpoint.
// Positions live in SQLite, not in the consumer group: the group is private to
// this process and never commits.
//
// A projection can get a *candidate*, a new database that replaces the live one
// once it has caught up (candidates.ts). The consumer seeks back to a
// candidate's checkpoints, every batch goes to both, and the swap happens
// between two batches, so no request ever sees a half-built model. Positions
// live in log-positions.ts, a failing handler's retries and dead letters in
// live-apply.ts, and the answers to waiting writers in outcome-waiters.ts.
import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { createSafeProducer, type SafeProducer } from '../kafka/producer.ts';
import { superviseConsumer, type SupervisedConsumer } from '../kafka/supervised-consumer.ts';
import type { Logger } from '../logger.ts';
import { observeHandler, type Metrics } from '../metrics.ts';
import { deadLetterRecord } from '../processing/dead-letters.ts';
import type { Health } from '../runtime/health.ts';
import type { Codec } from '../schemas/codec.ts';
import type { TopicDescriptor } from '../topics.ts';
import { applyBatch, decodeBatch } from './apply.ts';
import { createSlots, type Slots } from './candidates.ts';
import { createLiveApplier, type DeadLetter } from './live-apply.ts';
import { createLogPositions } from './log-positions.ts';
import type { OutcomeWaiters } from './outcome-waiters.ts';
import { keysOf, partitionKey, topicPartitionOf, type PartitionKey } from './partition-key.ts';
import type { ProjectedEvent, Projection } from './projection.ts';
import { namespacedDataDir } from './store.ts';

export interface ProjectionRunnerOptions {
  kafka: Kafka;
  codec: Codec;
  service: string;
  topicPrefix: string;
  dataDir: string;
  projections: Projection[];
  logger: Logger;
  waiters?: OutcomeWaiters;
  /** Attempts at a batch whose handler throws before its failing events are dead-lettered. */
  maxAttempts?: number;
  metrics?: Metrics;
  health?: Health;
  /** Called for every event once every projection has applied it. */
  onEvent?: (event: ProjectedEvent) => void;
  /** How often pointer files are checked for a rebuilt database. */
  watchIntervalMs?: number;
}

export interface ProjectionRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The database a projection answers queries from right now. */
  db(name: string): Database.Database;
  /** True once every partition has been read up to where the log ended at start. */
  caughtUp(): boolean;
  /** Next offset to read per partition. */
  positions(): Map<PartitionKey, bigint>;
  /** Resolves once the read models reflect everything the topic held when called. */
  waitForLogEnd(topic: TopicDescriptor, timeoutMs: number): Promise<void>;
  /** Projections being rebuilt in the background, by name. */
  rebuilding(): string[];
  /** Each live projection's checkpoint against the end of the log as last fetched. */
  progress(): { projection: string; topic: string; partition: number; position: bigint; end: bigint }[];
}

export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const { kafka, codec, service, projections, logger } = options;
  const dataDir = namespacedDataDir(options.dataDir, options.topicPrefix);
  const decoding = observeHandler(options.metrics, `read-models:${service}`);
  const topics = new Map<string, TopicDescriptor>(); // full name -> descriptor
  for (const p of projections) for (const t of p.topics) topics.set(t.name, t);
  const log = createLogPositions(logger, service);
  let slots: Slots | undefined;
  let consumer: SupervisedConsumer | undefined;
  let dlq: SafeProducer | undefined;
  let watcher: NodeJS.Timeout | undefined;

  const deadLetter: DeadLetter = async (topic, partition, message, reason, observer = decoding) => {
    const letter = deadLetterRecord({ topic: topic.name, partition, message }, reason, `${service}-read-models`);
    await dlq!.send({ topic: letter.topic, messages: [letter] });
    observer.deadLettered(topic.name);
    logger.warn({ topic: topic.name, partition, offset: message.offset, reason }, 'event dead-lettered');
  };
  const live = createLiveApplier({ maxAttempts: options.maxAttempts ?? 5, logger, deadLetter });

  /** Where a partition must be read from: the lowest checkpoint among the databases fed from it. */
  function startOffset(topic: TopicDescriptor, partition: number): bigint {
    const k = partitionKey(topic, partition);
    let min: bigint | undefined;
    for (const slot of slots!.reading(topic)) {
      for (const h of slots!.fed(slot)) {
        const c = h.checkpoints.get(k) ?? 0n;
        if (min === undefined || c < min) min = c;
      }
    }
    return min ?? log.startEnds.get(k) ?? 0n;
  }

  function seekToStart(forTopics: TopicDescriptor[]): void {
    const current = consumer?.current();
    if (!current) return;
    for (const topic of forTopics) {
      for (const { key, partition } of keysOf(topic, log.startEnds.keys())) {
        const offset = startOffset(topic, partition);
        if (offset < (log.read.get(key) ?? 0n)) current.seek({ topic: topic.name, partition, offset: String(offset) });
      }
    }
  }

  /** A rebuilt database appeared behind a pointer: feed it from its checkpoints; swap any candidate caught up. */
  function watchPointers(): void {
    seekToStart(slots!.adoptRebuilt());
    // An idle log brings no batch: a candidate already caught up swaps here.
    for (const slot of slots!.all()) slots!.maybeSwap(slot, log.ends);
    slots!.collectRetired();
  }

  async function eachBatch({ batch }: EachBatchPayload): Promise<void> {
    const topic = topics.get(batch.topic)!;
    const partition = batch.partition;
    const k = partitionKey(topic, partition);
    log.ends.set(k, BigInt(batch.highWatermark));
    const events = await decodeBatch(codec, topic, partition, batch.messages, (message, reason) => deadLetter(topic, partition, message, reason));
    const next = BigInt(batch.lastOffset()) + 1n;
    // Events re-read for a candidate were observed the first time round.
    const seen = log.observedUpTo.get(k) ?? 0n;
    const fresh = events.filter((e) => e.offset >= seen);
    for (const event of fresh) options.waiters?.observe(event);
    const appliedBy: string[] = [];
    for (const slot of slots!.reading(topic)) {
      const started = Date.now();
      const applied = slot.frozen ? 0 : await live.apply(slot.projection.name, slot.live, slot.observer, { topic, partition, events, next, messages: batch.messages });
      // A waiter may now answer from this projection (a frozen one is not updated: nothing to wait for).
      options.waiters?.applied(slot.projection.name, fresh);
      if (slot.candidate) {
        try {
          applyBatch(slot.candidate.handle, topic, partition, events, next);
        } catch (error) {
          slots!.dropCandidate(slot, (error as Error).message);
        }
      }
      if (applied) {
        slot.observer.handled(batch.messages, (Date.now() - started) / 1000);
        appliedBy.push(slot.projection.name);
      }
      slots!.maybeSwap(slot, log.ends);
    }
    // Once caught up, batches are small: name every story they touched.
    if (log.caughtUp() && appliedBy.length) {
      logger.info(
        { topic: topic.name, partition, offsets: `${batch.firstOffset()}-${batch.lastOffset()}`, projections: appliedBy, correlationIds: [...new Set(events.map((e) => e.meta.correlationId))] },
        'events applied',
      );
    }
    for (const event of fresh) options.onEvent?.(event);
    if (next > seen) log.observedUpTo.set(k, next);
  }

  /** After every batch, transaction markers and aborted records included (those never reach eachBatch). */
  function batchDone(payload: { topic: string; partition: number; firstOffset?: string | null; lastOffset: string; highWatermark: string }): void {
    const topic = topics.get(payload.topic);
    if (!topic) return;
    const k = partitionKey(topic, payload.partition);
    const next = BigInt(payload.lastOffset) + 1n;
    log.read.set(k, next);
    log.ends.set(k, BigInt(payload.highWatermark));
    // Move checkpoints over a batch of only markers, for models that hold what precedes it.
    if (payload.firstOffset !== null && payload.firstOffset !== undefined) {
      const first = BigInt(payload.firstOffset);
      for (const slot of slots!.reading(topic)) {
        for (const h of slots!.fed(slot)) {
          const cp = h.checkpoints.get(k) ?? 0n;
          if (cp >= first && cp < next) applyBatch(h, topic, payload.partition, [], next);
        }
        slots!.maybeSwap(slot, log.ends);
      }
    }
    log.updateCaughtUp();
  }

  async function readLogEnds(): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of topics.values()) {
        for (const o of await admin.fetchTopicOffsets(topic.name)) {
          log.startEnds.set(partitionKey(topic, o.partition), BigInt(o.high));
          log.ends.set(partitionKey(topic, o.partition), BigInt(o.high));
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  return {
    async start() {
      slots = createSlots({ projections, dataDir, service, logger, ...(options.metrics ? { metrics: options.metrics } : {}) });
      await readLogEnds();
      for (const k of log.startEnds.keys()) {
        const { topic: base, partition } = topicPartitionOf(k);
        log.read.set(
          k,
          startOffset(
            [...topics.values()].find((t) => t.baseName === base)!,
            partition,
          ),
        );
      }
      // Events a live model already holds were observed by a previous run.
      for (const k of log.startEnds.keys()) {
        let max = 0n;
        for (const slot of slots.all()) if (!slot.frozen) max = (slot.live.checkpoints.get(k) ?? 0n) > max ? (slot.live.checkpoints.get(k) ?? 0n) : max;
        log.observedUpTo.set(k, max);
      }
      log.updateCaughtUp();
      dlq = createSafeProducer(kafka);
      await dlq.connect();
      consumer = superviseConsumer({
        kafka,
        logger,
        metrics: options.metrics,
        health: options.health,
        config: {
          groupId: `${options.topicPrefix}${service}-read-models-${crypto.randomUUID()}`,
          maxWaitTimeInMs: 100,
          maxBytesPerPartition: 2 * 1024 * 1024,
          sessionTimeout: 30_000,
          retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 1_000 },
        },
        setup: async (c) => {
          c.on(c.events.END_BATCH_PROCESS, ({ payload }) => batchDone(payload));
          c.on(c.events.GROUP_JOIN, ({ payload }) => {
            for (const [topicName, partitions] of Object.entries(payload.memberAssignment)) {
              const topic = topics.get(topicName);
              if (!topic) continue;
              for (const partition of partitions) c.seek({ topic: topicName, partition, offset: String(startOffset(topic, partition)) });
            }
          });
          await c.connect();
          await c.subscribe({ topics: [...topics.keys()], fromBeginning: true });
          await c.run({ autoCommit: false, partitionsConsumedConcurrently: 1, eachBatch });
        },
      });
      await consumer.start();
      watcher = setInterval(watchPointers, options.watchIntervalMs ?? 500);
      watcher.unref();
    },
    async stop() {
      if (watcher) clearInterval(watcher);
      await consumer?.stop();
      await dlq?.disconnect();
      slots?.close();
    },
    db(name) {
      const slot = slots?.get(name);
      if (!slot) throw new Error(`${service} has no projection named ${name}`);
      return slot.live.db;
    },
    caughtUp: () => log.caughtUp(),
    positions: () => new Map(log.read),
    async waitForLogEnd(topic, timeoutMs) {
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic.name).finally(() => admin.disconnect());
      const deadline = Date.now() + timeoutMs;
      while (ends.some((e) => (log.read.get(partitionKey(topic, e.partition)) ?? 0n) < BigInt(e.high))) {
        if (Date.now() > deadline) throw new Error(`read models did not reach the end of ${topic.name} within ${timeoutMs}ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    rebuilding: () => [...(slots?.all() ?? [])].filter((s) => s.candidate).map((s) => s.projection.name),
    progress() {
      const result: ReturnType<ProjectionRunner['progress']> = [];
      for (const slot of slots?.all() ?? []) {
        for (const topic of slot.projection.topics) {
          for (const { key, partition } of keysOf(topic, log.ends.keys())) {
            result.push({ projection: slot.projection.name, topic: topic.name, partition, position: slot.live.checkpoints.get(key) ?? 0n, end: log.ends.get(key)! });
          }
        }
      }
      return result;
    },
  };
}
