// Keeps a service's read models up to date: one consumer reads every partition
// of every topic its projections need (each instance holds a full replica, so
// any instance can answer any query), and each fetched batch is applied to
// each projection in one SQLite transaction together with its checkpoint.
// Positions live in SQLite, not in the consumer group: the group is private to
// this process and never commits.
//
// A projection can get a *candidate*: a new database that replaces the live one
// once it has caught up. Candidates come from the rebuild tool (which rewrites
// the projection's pointer file: we watch it) and from a changed projection
// version (rebuilt from the log in the background while the old database keeps
// serving, no longer updated, since its tables belong to the old code). The
// consumer seeks back to a candidate's checkpoints, every batch goes to both,
// and the swap happens between two batches, so no request ever sees a
// half-built model.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { createSafeProducer, type SafeProducer } from '../kafka/producer.ts';
import type { Logger } from '../logger.ts';
import { observeHandler, type HandlerObserver, type Metrics } from '../metrics.ts';
import { deadLetterRecord } from '../processing/dead-letters.ts';
import { createRetryBudget } from '../processing/retry-budget.ts';
import { superviseConsumer, type SupervisedConsumer } from '../kafka/supervised-consumer.ts';
import type { Health } from '../runtime/health.ts';
import type { Codec } from '../schemas/codec.ts';
import type { TopicDescriptor } from '../topics.ts';
import { applyBatch, BatchFailed, checkpointKey, decodeBatch, openHandle, type ProjectionHandle } from './apply.ts';
import type { OutcomeWaiters } from './outcome-waiters.ts';
import type { ProjectedEvent, Projection } from './projection.ts';
import { namespacedDataDir, newDatabaseFile, projectionDir, readPointer, readyToServe, writePointer, type Pointer } from './store.ts';

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
  /** Next offset to read per `topic|partition`. */
  positions(): Map<string, bigint>;
  /** Resolves once the read models reflect everything the topic held when called. */
  waitForLogEnd(topic: TopicDescriptor, timeoutMs: number): Promise<void>;
  /** Projections being rebuilt in the background, by name. */
  rebuilding(): string[];
  /** Each live projection's checkpoint against the end of the log as last fetched. */
  progress(): { projection: string; topic: string; partition: number; position: bigint; end: bigint }[];
}

interface Slot {
  projection: Projection;
  observer: HandlerObserver;
  live: ProjectionHandle;
  /** The live database belongs to an older version of the code: it serves, but is not updated. */
  frozen: boolean;
  candidate?: { handle: ProjectionHandle; pointer: Pointer; writePointer: boolean };
  pointerSeen?: string;
}

export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const { kafka, codec, service, projections, logger } = options;
  const dataDir = namespacedDataDir(options.dataDir, options.topicPrefix);
  const maxAttempts = options.maxAttempts ?? 5;
  const budget = createRetryBudget(maxAttempts);
  const decoding = observeHandler(options.metrics, `read-models:${service}`);
  const slots = new Map<string, Slot>();
  const topics = new Map<string, TopicDescriptor>(); // full name -> descriptor
  for (const p of projections) for (const t of p.topics) topics.set(t.name, t);
  const positions = new Map<string, bigint>();
  const observedUpTo = new Map<string, bigint>();
  const highWatermarks = new Map<string, bigint>();
  const startEnds = new Map<string, bigint>();
  let caughtUp = false;
  let consumer: SupervisedConsumer | undefined;
  let dlq: SafeProducer | undefined;
  let watcher: NodeJS.Timeout | undefined;
  const retired: { db: Database.Database; file: string; at: number }[] = [];

  const reads = (projection: Projection, topic: TopicDescriptor) => projection.topics.some((t) => t.name === topic.name);
  /** The handles a slot applies events to: its live model unless frozen, and a rebuild's candidate. */
  const fed = (slot: Slot) => [...(slot.frozen ? [] : [slot.live]), ...(slot.candidate ? [slot.candidate.handle] : [])];

  function openSlot(projection: Projection): Slot {
    const observer = observeHandler(options.metrics, `projection:${projection.name}`);
    const pointer = readPointer(dataDir, service, projection.name);
    if (pointer && pointer.version === projection.version) {
      return { projection, observer, live: openHandle(projection, dataDir, service, pointer.file), frozen: false, pointerSeen: pointer.file };
    }
    const fresh: Pointer = { file: newDatabaseFile(projection), version: projection.version };
    if (!pointer) {
      const live = openHandle(projection, dataDir, service, fresh.file);
      writePointer(dataDir, service, projection.name, fresh);
      return { projection, observer, live, frozen: false, pointerSeen: fresh.file };
    }
    // A new version of the code: keep serving the old database while the new one is built.
    logger.warn({ projection: projection.name, from: pointer.version, to: projection.version }, 'projection version changed; rebuilding it from the log in the background');
    const old = openHandle({ ...projection, handler: () => () => {} }, dataDir, service, pointer.file);
    return {
      projection,
      observer,
      live: old,
      frozen: true,
      candidate: { handle: openHandle(projection, dataDir, service, fresh.file, { bulk: true }), pointer: fresh, writePointer: true },
      pointerSeen: pointer.file,
    };
  }

  /** Where a partition must be read from: the lowest checkpoint among the databases fed from it. */
  function startOffset(topic: TopicDescriptor, partition: number): bigint {
    const k = checkpointKey(topic, partition);
    let min: bigint | undefined;
    for (const slot of slots.values()) {
      if (!reads(slot.projection, topic)) continue;
      for (const h of fed(slot)) {
        const c = h.checkpoints.get(k) ?? 0n;
        if (min === undefined || c < min) min = c;
      }
    }
    return min ?? startEnds.get(k) ?? 0n;
  }

  function updateCaughtUp(): void {
    if (caughtUp) return;
    for (const [k, end] of startEnds) if ((positions.get(k) ?? 0n) < end) return;
    caughtUp = true;
    logger.info({ service }, 'read models caught up with the log');
  }

  /** Swaps a candidate in once, for every partition it reads, it is where the live model is (or at the log's end). */
  function maybeSwap(slot: Slot): void {
    const candidate = slot.candidate;
    if (!candidate) return;
    for (const topic of slot.projection.topics) {
      for (const [k, end] of highWatermarks) {
        if (!k.startsWith(`${topic.baseName}|`)) continue;
        const target = slot.frozen ? end : (slot.live.checkpoints.get(k) ?? 0n);
        if ((candidate.handle.checkpoints.get(k) ?? 0n) < target) return;
      }
    }
    readyToServe(candidate.handle.db, slot.projection);
    if (candidate.writePointer) writePointer(dataDir, service, slot.projection.name, candidate.pointer);
    retired.push({ db: slot.live.db, file: slot.live.file, at: Date.now() });
    slot.live = candidate.handle;
    slot.frozen = false;
    slot.candidate = undefined;
    slot.pointerSeen = candidate.pointer.file;
    logger.info({ projection: slot.projection.name, file: candidate.pointer.file }, 'rebuilt projection swapped in');
  }

  function dropCandidate(slot: Slot, reason: string): void {
    if (!slot.candidate) return;
    logger.error({ projection: slot.projection.name, reason }, 'candidate projection dropped; the live one keeps serving');
    slot.candidate.handle.db.close();
    slot.candidate = undefined;
  }

  /** A rebuilt database appeared behind the pointer: feed it from its checkpoints, swap when it caught up. */
  function checkPointers(): void {
    for (const slot of slots.values()) {
      const pointer = readPointer(dataDir, service, slot.projection.name);
      if (!pointer || pointer.file === slot.pointerSeen || pointer.file === slot.candidate?.pointer.file) continue;
      if (pointer.version !== slot.projection.version) {
        logger.warn({ projection: slot.projection.name, version: pointer.version }, 'ignoring a rebuilt projection of another version');
        slot.pointerSeen = pointer.file;
        continue;
      }
      if (slot.candidate) dropCandidate(slot, 'replaced by a newer rebuild');
      slot.candidate = { handle: openHandle(slot.projection, dataDir, service, pointer.file), pointer, writePointer: false };
      slot.pointerSeen = pointer.file;
      logger.info({ projection: slot.projection.name, file: pointer.file }, 'rebuilt projection found; catching it up before the swap');
      seekToStart(slot.projection.topics);
    }
    // An idle log brings no batch: a candidate already caught up swaps here.
    for (const slot of slots.values()) maybeSwap(slot);
    const now = Date.now();
    for (const r of retired.filter((x) => now - x.at > 5_000)) {
      // Requests read synchronously; a few seconds is plenty for any still holding it.
      r.db.close();
      fs.rmSync(path.join(projectionDir(dataDir, service), r.file), { force: true });
      for (const suffix of ['-wal', '-shm']) fs.rmSync(path.join(projectionDir(dataDir, service), `${r.file}${suffix}`), { force: true });
      retired.splice(retired.indexOf(r), 1);
    }
  }

  function seekToStart(forTopics: TopicDescriptor[]): void {
    const current = consumer?.current();
    if (!current) return;
    for (const topic of forTopics) {
      for (const k of startEnds.keys()) {
        const [base, p] = k.split('|') as [string, string];
        if (base !== topic.baseName) continue;
        const offset = startOffset(topic, Number(p));
        if (offset < (positions.get(k) ?? 0n)) current.seek({ topic: topic.name, partition: Number(p), offset: String(offset) });
      }
    }
  }

  async function deadLetter(topic: TopicDescriptor, partition: number, message: KafkaMessage, reason: string, observer = decoding): Promise<void> {
    const letter = deadLetterRecord({ topic: topic.name, partition, message }, reason, `${service}-read-models`);
    await dlq!.send({ topic: letter.topic, messages: [letter] });
    observer.deadLettered(topic.name);
    logger.warn({ topic: topic.name, partition, offset: message.offset, reason }, 'event dead-lettered');
  }

  async function applyToLive(slot: Slot, topic: TopicDescriptor, partition: number, events: ProjectedEvent[], next: bigint, messages: KafkaMessage[]): Promise<number> {
    const skip = new Set<bigint>();
    for (;;) {
      try {
        return applyBatch(slot.live, topic, partition, events, next, skip);
      } catch (error) {
        if (!(error instanceof BatchFailed)) throw error;
        const first = error.failed[0]!;
        const attemptKey = `${slot.projection.name}|${topic.name}|${partition}|${first.offset}`;
        slot.observer.failed('handler-error');
        const exhausted = budget.exhausted(attemptKey);
        const attempt = budget.attempts(attemptKey);
        logger.warn({ projection: slot.projection.name, topic: topic.name, offset: String(first.offset), attempt, reason: error.reason, correlationId: first.meta.correlationId }, 'projection handler failed');
        if (!exhausted) throw new Error(`projection ${slot.projection.name} failed on ${topic.name}[${partition}]@${first.offset} (attempt ${attempt}/${maxAttempts}): ${error.reason}`);
        // Still failing after bounded retries: dead-letter those events and go on.
        for (const event of error.failed) {
          await deadLetter(topic, partition, messages.find((m) => BigInt(m.offset) === event.offset)!, `projection ${slot.projection.name} kept failing: ${error.reason}`, slot.observer);
          skip.add(event.offset);
        }
        budget.settle(attemptKey);
      }
    }
  }

  async function eachBatch({ batch }: EachBatchPayload): Promise<void> {
    const topic = topics.get(batch.topic)!;
    const partition = batch.partition;
    const k = checkpointKey(topic, partition);
    highWatermarks.set(k, BigInt(batch.highWatermark));
    const events = await decodeBatch(codec, topic, partition, batch.messages, (message, reason) => deadLetter(topic, partition, message, reason));
    const next = BigInt(batch.lastOffset()) + 1n;
    // Events re-read for a candidate were observed the first time round.
    const seen = observedUpTo.get(k) ?? 0n;
    const fresh = events.filter((e) => e.offset >= seen);
    for (const event of fresh) options.waiters?.observe(event);
    const appliedBy: string[] = [];
    for (const slot of slots.values()) {
      if (!reads(slot.projection, topic)) continue;
      const started = Date.now();
      const applied = slot.frozen ? 0 : await applyToLive(slot, topic, partition, events, next, batch.messages);
      // A waiter may now answer from this projection (a frozen one is not updated: nothing to wait for).
      options.waiters?.applied(slot.projection.name, fresh);
      if (slot.candidate) {
        try {
          applyBatch(slot.candidate.handle, topic, partition, events, next);
        } catch (error) {
          dropCandidate(slot, (error as Error).message);
        }
      }
      if (applied) {
        slot.observer.handled(batch.messages, (Date.now() - started) / 1000);
        appliedBy.push(slot.projection.name);
      }
      maybeSwap(slot);
    }
    // Once caught up, batches are small: name every story they touched.
    if (caughtUp && appliedBy.length) {
      logger.info({ topic: topic.name, partition, offsets: `${batch.firstOffset()}-${batch.lastOffset()}`, projections: appliedBy, correlationIds: [...new Set(events.map((e) => e.meta.correlationId))] }, 'events applied');
    }
    for (const event of fresh) options.onEvent?.(event);
    if (next > seen) observedUpTo.set(k, next);
  }

  return {
    async start() {
      for (const p of projections) slots.set(p.name, openSlot(p));
      const admin = kafka.admin();
      await admin.connect();
      try {
        for (const topic of topics.values()) {
          for (const o of await admin.fetchTopicOffsets(topic.name)) {
            startEnds.set(checkpointKey(topic, o.partition), BigInt(o.high));
            highWatermarks.set(checkpointKey(topic, o.partition), BigInt(o.high));
          }
        }
      } finally {
        await admin.disconnect();
      }
      for (const k of startEnds.keys()) {
        const [base, p] = k.split('|') as [string, string];
        const topic = [...topics.values()].find((t) => t.baseName === base)!;
        const from = startOffset(topic, Number(p));
        positions.set(k, from);
      }
      // Events a live model already holds were observed by a previous run.
      for (const [k] of startEnds) {
        let max = 0n;
        for (const slot of slots.values()) if (!slot.frozen) max = (slot.live.checkpoints.get(k) ?? 0n) > max ? (slot.live.checkpoints.get(k) ?? 0n) : max;
        observedUpTo.set(k, max);
      }
      updateCaughtUp();
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
          retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 10_000 },
        },
        setup: async (c) => {
          c.on(c.events.END_BATCH_PROCESS, ({ payload }) => {
            const topic = topics.get(payload.topic);
            if (!topic) return;
            const k = checkpointKey(topic, payload.partition);
            const next = BigInt(payload.lastOffset) + 1n;
            positions.set(k, next);
            highWatermarks.set(k, BigInt(payload.highWatermark));
            // A batch of only transaction markers or aborted records never reaches
            // eachBatch; move checkpoints over it, for models that hold what precedes it.
            if (payload.firstOffset !== null && payload.firstOffset !== undefined) {
              const first = BigInt(payload.firstOffset);
              for (const slot of slots.values()) {
                if (!reads(slot.projection, topic)) continue;
                for (const h of fed(slot)) {
                  const cp = h.checkpoints.get(k) ?? 0n;
                  if (cp >= first && cp < next) applyBatch(h, topic, payload.partition, [], next);
                }
                maybeSwap(slot);
              }
            }
            updateCaughtUp();
          });
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
      watcher = setInterval(checkPointers, options.watchIntervalMs ?? 500);
      watcher.unref();
    },
    async stop() {
      if (watcher) clearInterval(watcher);
      await consumer?.stop();
      await dlq?.disconnect();
      for (const slot of slots.values()) {
        slot.live.db.close();
        slot.candidate?.handle.db.close();
      }
      for (const r of retired) r.db.close();
    },
    db(name) {
      const slot = slots.get(name);
      if (!slot) throw new Error(`${service} has no projection named ${name}`);
      return slot.live.db;
    },
    caughtUp: () => caughtUp,
    positions: () => new Map(positions),
    async waitForLogEnd(topic, timeoutMs) {
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic.name).finally(() => admin.disconnect());
      const deadline = Date.now() + timeoutMs;
      while (ends.some((e) => (positions.get(checkpointKey(topic, e.partition)) ?? 0n) < BigInt(e.high))) {
        if (Date.now() > deadline) throw new Error(`read models did not reach the end of ${topic.name} within ${timeoutMs}ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    rebuilding: () => [...slots.values()].filter((s) => s.candidate).map((s) => s.projection.name),
    progress() {
      const result: ReturnType<ProjectionRunner['progress']> = [];
      for (const slot of slots.values()) {
        for (const topic of slot.projection.topics) {
          for (const [k, end] of highWatermarks) {
            const [base, p] = k.split('|') as [string, string];
            if (base !== topic.baseName) continue;
            result.push({ projection: slot.projection.name, topic: topic.name, partition: Number(p), position: slot.live.checkpoints.get(k) ?? 0n, end });
          }
        }
      }
      return result;
    },
  };
}
