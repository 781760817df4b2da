// Keeps a service's read models up to date: one consumer reads every partition
// of every topic its projections need (each instance holds a full replica, so
// any instance can answer any query), and each fetched batch is applied to
// each interested projection in one SQLite transaction together with that
// projection's checkpoint. Positions live in SQLite, not in the consumer group:
// the group is private to this process and never commits.
import crypto from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { createSafeProducer, type SafeProducer } from '../kafka/producer.ts';
import { fromHeaders } from '../headers.ts';
import type { Logger } from '../logger.ts';
import { deadLetterRecord } from '../processing/dead-letters.ts';
import { DecodeError, type Codec } from '../schemas/codec.ts';
import type { TopicDescriptor } from '../topics.ts';
import type { OutcomeWaiters } from './outcome-waiters.ts';
import type { ProjectedEvent, Projection } from './projection.ts';
import { checkpoints, newDatabaseFile, openDatabase, projectionDir, readPointer, writePointer } from './store.ts';

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
  onApplied?: (info: { projection: string; events: number; ms: number }) => void;
  /** Called for every event once every projection has applied it. */
  onEvent?: (event: ProjectedEvent) => void;
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
}

/** Thrown inside a projection's transaction to roll the whole batch back. */
class BatchFailed extends Error {
  constructor(readonly failed: ProjectedEvent[]) {
    super(`${failed.length} event(s) failed`);
  }
}

interface Handle {
  projection: Projection;
  db: Database.Database;
  apply: (event: ProjectedEvent) => void;
  checkpoints: Map<string, bigint>;
  saveCheckpoint: Database.Statement;
}

export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const { kafka, codec, service, dataDir, projections, logger } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const handles = new Map<string, Handle>();
  const topics = new Map<string, TopicDescriptor>(); // full name -> descriptor
  for (const p of projections) for (const t of p.topics) topics.set(t.name, t);
  const positions = new Map<string, bigint>();
  const startEnds = new Map<string, bigint>();
  const attempts = new Map<string, number>();
  let caughtUp = false;
  let consumer: Consumer | undefined;
  let dlq: SafeProducer | undefined;

  function openHandle(projection: Projection): Handle {
    const dir = projectionDir(dataDir, service);
    let pointer = readPointer(dataDir, service, projection.name);
    if (!pointer || pointer.version !== projection.version) {
      pointer = { file: newDatabaseFile(projection), version: projection.version };
      openDatabase(path.join(dir, pointer.file), projection).close();
      writePointer(dataDir, service, projection.name, pointer);
    }
    const db = openDatabase(path.join(dir, pointer.file), projection);
    return {
      projection,
      db,
      apply: projection.handler(db),
      checkpoints: checkpoints(db),
      saveCheckpoint: db.prepare(`INSERT INTO _checkpoints (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset`),
    };
  }

  const key = (topic: TopicDescriptor, partition: number) => `${topic.baseName}|${partition}`;

  function updateCaughtUp(): void {
    if (caughtUp) return;
    for (const [k, end] of startEnds) if ((positions.get(k) ?? 0n) < end) return;
    caughtUp = true;
    logger.info({ service }, 'read models caught up with the log');
  }

  async function decodeBatch(topic: TopicDescriptor, partition: number, messages: KafkaMessage[]): Promise<ProjectedEvent[]> {
    const events: ProjectedEvent[] = [];
    for (const message of messages) {
      try {
        const decoded = await codec.decode(topic, message.value);
        events.push({
          topic: topic.baseName,
          type: decoded.message.type,
          data: decoded.message.data as Record<string, unknown>,
          meta: fromHeaders(message.headers, Number(message.timestamp)),
          partition,
          offset: BigInt(message.offset),
          key: message.key?.toString(),
        });
      } catch (error) {
        if (!(error instanceof DecodeError) || !error.permanent) throw error;
        // Poison: into the dead-letter topic before the checkpoint moves past it.
        await dlq!.send({ topic: `${topic.name}.dlq`, acks: -1, messages: [deadLetterRecord({ topic: topic.name, partition, message }, `undecodable: ${error.message}`, `${service}-read-models`)] });
        logger.warn({ topic: topic.name, partition, offset: message.offset, reason: error.message }, 'event dead-lettered');
      }
    }
    return events;
  }

  /** Applies a batch to one projection in one transaction, or throws BatchFailed having changed nothing. */
  function applyBatch(handle: Handle, topic: TopicDescriptor, partition: number, events: ProjectedEvent[], next: bigint, skip: Set<bigint>): void {
    const from = handle.checkpoints.get(key(topic, partition)) ?? 0n;
    const failed: ProjectedEvent[] = [];
    handle.db.transaction(() => {
      for (const event of events) {
        if (event.offset < from || skip.has(event.offset)) continue;
        try {
          handle.db.transaction(() => handle.apply(event))(); // a savepoint per event
        } catch (error) {
          failed.push(event);
          logger.warn({ projection: handle.projection.name, topic: topic.name, offset: String(event.offset), error: (error as Error).message }, 'projection handler failed');
        }
      }
      if (failed.length > 0) throw new BatchFailed(failed);
      if (next > from) handle.saveCheckpoint.run(topic.baseName, partition, next);
    })();
    if (next > from) handle.checkpoints.set(key(topic, partition), next);
  }

  async function eachBatch({ batch }: EachBatchPayload): Promise<void> {
    const topic = topics.get(batch.topic)!;
    const partition = batch.partition;
    const events = await decodeBatch(topic, partition, batch.messages);
    const next = BigInt(batch.lastOffset()) + 1n;
    const started = Date.now();
    for (const handle of handles.values()) {
      if (!handle.projection.topics.some((t) => t.name === topic.name)) continue;
      const skip = new Set<bigint>();
      for (;;) {
        let failed: ProjectedEvent[];
        try {
          applyBatch(handle, topic, partition, events, next, skip);
          break;
        } catch (error) {
          if (!(error instanceof BatchFailed)) throw error;
          failed = error.failed;
        }
        const attemptKey = `${handle.projection.name}|${topic.name}|${partition}|${failed[0]!.offset}`;
        const attempt = (attempts.get(attemptKey) ?? 0) + 1;
        attempts.set(attemptKey, attempt);
        if (attempt < maxAttempts) throw new Error(`projection ${handle.projection.name} failed on ${topic.name}[${partition}]@${failed[0]!.offset} (attempt ${attempt}/${maxAttempts})`);
        // Still failing after bounded retries: dead-letter those events and go on.
        for (const event of failed) {
          const message = batch.messages.find((m) => BigInt(m.offset) === event.offset)!;
          await dlq!.send({ topic: `${topic.name}.dlq`, acks: -1, messages: [deadLetterRecord({ topic: topic.name, partition, message }, `projection ${handle.projection.name} kept failing`, `${service}-read-models`)] });
          skip.add(event.offset);
        }
        attempts.delete(attemptKey);
      }
      options.onApplied?.({ projection: handle.projection.name, events: events.length, ms: Date.now() - started });
    }
    for (const event of events) {
      options.waiters?.observe(event);
      options.onEvent?.(event);
    }
  }

  return {
    async start() {
      for (const p of projections) handles.set(p.name, openHandle(p));
      const admin = kafka.admin();
      await admin.connect();
      try {
        for (const topic of topics.values()) {
          for (const o of await admin.fetchTopicOffsets(topic.name)) startEnds.set(key(topic, o.partition), BigInt(o.high));
        }
      } finally {
        await admin.disconnect();
      }
      // Where each partition starts: the lowest checkpoint among the projections reading it.
      for (const k of startEnds.keys()) {
        const [base] = k.split('|');
        const readers = [...handles.values()].filter((h) => h.projection.topics.some((t) => t.baseName === base));
        positions.set(k, readers.reduce((min, h) => { const c = h.checkpoints.get(k) ?? 0n; return c < min ? c : min; }, BigInt(Number.MAX_SAFE_INTEGER)));
      }
      updateCaughtUp();
      dlq = createSafeProducer(kafka);
      await dlq.connect();
      consumer = kafka.consumer({
        groupId: `${options.topicPrefix}${service}-read-models-${crypto.randomUUID()}`,
        maxWaitTimeInMs: 100,
        sessionTimeout: 30_000,
        retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 10_000 },
      });
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const topic = topics.get(payload.topic);
        if (!topic) return;
        const k = key(topic, payload.partition);
        const next = BigInt(payload.lastOffset) + 1n;
        if (next > (positions.get(k) ?? 0n)) positions.set(k, next);
        updateCaughtUp();
      });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        for (const [topicName, partitions] of Object.entries(payload.memberAssignment)) {
          const topic = topics.get(topicName);
          if (!topic) continue;
          for (const partition of partitions) {
            consumer!.seek({ topic: topicName, partition, offset: String(positions.get(key(topic, partition)) ?? 0n) });
          }
        }
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics.keys()], fromBeginning: true });
      await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 1, eachBatch });
    },
    async stop() {
      await consumer?.disconnect();
      await dlq?.disconnect();
      for (const h of handles.values()) h.db.close();
    },
    db(name) {
      const handle = handles.get(name);
      if (!handle) throw new Error(`${service} has no projection named ${name}`);
      return handle.db;
    },
    caughtUp: () => caughtUp,
    positions: () => new Map(positions),
    async waitForLogEnd(topic, timeoutMs) {
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic.name).finally(() => admin.disconnect());
      const deadline = Date.now() + timeoutMs;
      while (ends.some((e) => (positions.get(key(topic, e.partition)) ?? 0n) < BigInt(e.high))) {
        if (Date.now() > deadline) throw new Error(`read models did not reach the end of ${topic.name} within ${timeoutMs}ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
