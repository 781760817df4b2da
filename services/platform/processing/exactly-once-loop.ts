// Consume -> decide -> produce, exactly once, on kafkajs 2.2.4.
//
// One consumer group reads the input topic. Each input partition has its own
// transactional producer with a transactional id stable per partition
// (`<group>-<partition>`): kafkajs holds one open transaction per producer, and
// without KIP-447 the only fencing of a zombie (an old owner that does not yet
// know it lost the partition) is a new producer initialising the same id.
//
// A partition is *prepared* whenever it is (re)assigned and after any failure
// whose outcome is uncertain:
//   1. a new producer connects with the partition's transactional id, which
//      fences the previous one and makes its open transaction either committed
//      or aborted;
//   2. the handler brings the partition's state up to date (for a command
//      processor: from its events partition, which can no longer change under it);
//   3. the group's committed offset is read again. Only now is it final: a
//      zombie's transaction may have committed offsets after this consumer
//      fetched them at assignment, and messages below it are skipped.
// Then each chunk of messages is decided, its records sent and its offsets
// committed in one transaction. A chunk that went stale (rebalance, shutdown,
// reassignment) is aborted, never committed.
import type { Admin, Kafka, KafkaMessage, Producer, RecordMetadata, Transaction } from 'kafkajs';
import type { Logger } from '../logger.ts';
import { sendOffsetsWithRetry, TRANSACTIONAL_RETRY } from '../kafka/transactions.ts';
import { failureReason, observeHandler, type Metrics } from '../metrics.ts';
import { superviseConsumer, type SupervisedConsumer } from '../kafka/supervised-consumer.ts';
import type { Health } from '../runtime/health.ts';
import { deadLetterTopicName } from '../topics.ts';
import { groupByTopic, type OutboundRecord } from './outbound-record.ts';
import { consumeSpans, end, inCommitSpan } from '../tracing/spans.ts';

export type { OutboundRecord } from './outbound-record.ts';

export interface ChunkResult {
  records: OutboundRecord[];
  /** The transaction committed: make its effects visible. */
  committed(metadata: RecordMetadata[]): void;
  /** The transaction did not commit (or may not have): forget its effects. */
  aborted(): void;
}

export interface PartitionHandler {
  /** Bring these partitions' state up to date; their zombies are already fenced. */
  prepare(partitions: number[], heartbeat: () => Promise<void>): Promise<void>;
  handle(partition: number, messages: KafkaMessage[]): Promise<ChunkResult>;
  /** Partitions this member no longer owns. */
  release(partitions: number[]): void;
}

export interface ExactlyOnceLoopOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  handler: PartitionHandler;
  logger: Logger;
  /** Messages per transaction at most. */
  maxPerTransaction?: number;
  /** Partitions handled at once, each with its own producer. */
  concurrency?: number;
  transactionTimeoutMs?: number;
  sessionTimeoutMs?: number;
  onTransaction?: (info: { partition: number; messages: number; records: number; ms: number }) => void;
  /** Metrics label for what this loop runs (`processor:inventory`, `translator:<name>`). */
  handlerName?: string;
  metrics?: Metrics;
  health?: Health;
}

export interface ExactlyOnceLoop {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Partitions owned and prepared right now. */
  readyPartitions(): number[];
}

interface Slot {
  partition: number;
  generation: number;
  producer?: Producer;
  ready?: Promise<void>;
  prepared: boolean;
  /** Next offset to handle; below it, messages were committed by an earlier owner. */
  nextOffset: bigint;
}

class StaleChunk extends Error {}

export function createExactlyOnceLoop(options: ExactlyOnceLoopOptions): ExactlyOnceLoop {
  const { kafka, groupId, topic, handler, logger } = options;
  const maxPerTransaction = options.maxPerTransaction ?? 500;
  const observer = observeHandler(options.metrics, options.handlerName ?? groupId);
  const deadLetterTopic = deadLetterTopicName(topic);
  const slots = new Map<number, Slot>();
  let assigned = new Set<number>();
  let consumer: SupervisedConsumer | undefined;
  let admin: Admin | undefined;

  const slotFor = (partition: number): Slot => {
    let slot = slots.get(partition);
    if (!slot) {
      slot = { partition, generation: 0, prepared: false, nextOffset: -1n };
      slots.set(partition, slot);
    }
    return slot;
  };

  function newProducer(partition: number): Producer {
    return kafka.producer({
      transactionalId: `${groupId}-${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: options.transactionTimeoutMs ?? 30_000,
      retry: TRANSACTIONAL_RETRY,
    });
  }

  async function fence(slot: Slot): Promise<void> {
    const old = slot.producer;
    slot.producer = undefined;
    await old?.disconnect().catch(() => {});
    const producer = newProducer(slot.partition);
    await producer.connect(); // InitProducerId: fences the previous owner of this id
    slot.producer = producer;
  }

  async function committedOffsets(partitions: number[]): Promise<Map<number, bigint>> {
    const [entry] = await admin!.fetchOffsets({ groupId, topics: [topic] });
    const result = new Map<number, bigint>();
    for (const p of entry?.partitions ?? []) if (partitions.includes(p.partition)) result.set(p.partition, BigInt(p.offset));
    return result;
  }

  async function prepare(batch: Slot[], heartbeat: () => Promise<void>): Promise<void> {
    const generations = batch.map((s) => s.generation);
    await Promise.all(batch.map(fence));
    await handler.prepare(
      batch.map((s) => s.partition),
      heartbeat,
    );
    const offsets = await committedOffsets(batch.map((s) => s.partition));
    batch.forEach((slot, i) => {
      if (slot.generation !== generations[i]) return; // reassigned meanwhile: the next prepare wins
      slot.nextOffset = offsets.get(slot.partition) ?? -1n;
      slot.prepared = true;
    });
    logger.info({ topic, partitions: batch.map((s) => s.partition), nextOffsets: batch.map((s) => String(s.nextOffset)) }, 'partitions prepared');
  }

  /** Prepares every owned partition that needs it, together (one state read for all). */
  function ensureReady(slot: Slot, heartbeat: () => Promise<void>): Promise<void> {
    if (slot.ready) return slot.ready;
    const batch = [...assigned].map(slotFor).filter((s) => !s.ready);
    if (!batch.includes(slot)) batch.push(slot);
    const promise = prepare(batch, heartbeat).catch((error: unknown) => {
      for (const s of batch) if (s.ready === promise) s.ready = undefined;
      throw error;
    });
    for (const s of batch) s.ready = promise;
    return promise;
  }

  function invalidate(slot: Slot): void {
    slot.generation++;
    slot.prepared = false;
    slot.ready = undefined;
  }

  async function handleChunk(slot: Slot, generation: number, chunk: KafkaMessage[], heartbeat: () => Promise<void>) {
    const started = Date.now();
    // A span per message, and the messages handed on carry it (tracing/spans.ts).
    const traced = consumeSpans(topic, slot.partition, groupId, chunk);
    const transaction: Transaction = await slot.producer!.transaction();
    let result: ChunkResult | undefined;
    try {
      result = await handler.handle(slot.partition, traced.messages);
      const records = result.records;
      const next = BigInt(chunk[chunk.length - 1]!.offset) + 1n;
      const metadata = await inCommitSpan(topic, slot.partition, traced, records.length, async () => {
        const sent = records.length > 0 ? await transaction.sendBatch({ acks: -1, topicMessages: groupByTopic(records) }) : [];
        await sendOffsetsWithRetry(transaction, { consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: slot.partition, offset: next.toString() }] }] });
        await heartbeat(); // throws if the group is rebalancing: then this chunk must not commit
        // Stopping is no reason to abort: until it leaves the group this member
        // still owns the partition, so the chunk in hand commits (SIGTERM loses nothing).
        if (slot.generation !== generation) throw new StaleChunk('partition reassigned');
        await transaction.commit();
        return sent;
      });
      result.committed(metadata);
      for (const span of traced.spans) end(span);
      slot.nextOffset = next;
      const ms = Date.now() - started;
      let deadLettered = 0;
      for (const r of records) if (r.topic === deadLetterTopic) deadLettered++;
      observer.deadLettered(topic, deadLettered);
      observer.handled(chunk, ms / 1000, deadLettered);
      options.onTransaction?.({ partition: slot.partition, messages: chunk.length, records: records.length, ms });
    } catch (error) {
      await transaction.abort().catch(() => {}); // a failed commit leaves nothing to abort: re-preparing settles it
      result?.aborted();
      for (const span of traced.spans) end(span, error);
      observer.failed(error instanceof StaleChunk ? 'stale' : failureReason(error));
      invalidate(slot);
      throw error;
    }
  }

  async function eachBatch({ batch, heartbeat, resolveOffset, isRunning, isStale }: import('kafkajs').EachBatchPayload): Promise<void> {
    const slot = slotFor(batch.partition);
    if (!assigned.has(slot.partition)) return;
    await ensureReady(slot, heartbeat);
    const generation = slot.generation;
    // Offsets ascend within a batch; only the first batch after a hand-over can start below nextOffset.
    const first = batch.messages[0];
    const fresh = first && BigInt(first.offset) < slot.nextOffset ? batch.messages.filter((m) => BigInt(m.offset) >= slot.nextOffset) : batch.messages;
    const skipped = batch.messages.length - fresh.length;
    if (skipped > 0) {
      logger.info({ topic, partition: slot.partition, skipped, nextOffset: String(slot.nextOffset) }, 'skipping messages an earlier owner already committed');
      if (fresh.length === 0) resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    }
    for (let i = 0; i < fresh.length; i += maxPerTransaction) {
      if (!isRunning() || isStale() || slot.generation !== generation) return;
      const chunk = fresh.slice(i, i + maxPerTransaction);
      try {
        await handleChunk(slot, generation, chunk, heartbeat);
      } catch (error) {
        if (error instanceof StaleChunk) return;
        throw error; // kafkajs re-fetches from the last resolved offset and retries
      }
      resolveOffset(chunk[chunk.length - 1]!.offset);
    }
  }

  function onAssigned(now: Set<number>): void {
    const lost = [...assigned].filter((p) => !now.has(p));
    // Eager rebalancing: every assignment may follow another owner's work,
    // so every owned partition is prepared again before its next batch.
    for (const p of now) invalidate(slotFor(p));
    for (const p of lost) {
      const slot = slotFor(p);
      invalidate(slot);
      void slot.producer?.disconnect().catch(() => {});
      slot.producer = undefined;
    }
    assigned = now;
    if (lost.length) handler.release(lost);
    logger.info({ topic, groupId, partitions: [...now] }, 'assigned');
    // Prepare at once rather than on the first batch, so the first command
    // after a hand-over does not wait for the restore. (The fetch loop keeps
    // heartbeating meanwhile; a batch that arrives first awaits the same work.)
    const [first] = now;
    if (first !== undefined) {
      ensureReady(slotFor(first), async () => {}).catch((error: unknown) => logger.warn({ topic, error: (error as Error).message }, 'preparing partitions failed; retrying on the next batch'));
    }
  }

  return {
    async start() {
      admin = kafka.admin();
      await admin.connect();
      consumer = superviseConsumer({
        kafka,
        logger,
        metrics: options.metrics,
        health: options.health,
        config: {
          groupId,
          // A crashed owner holds its partitions until its session expires: this
          // bounds failover. Batches and restores heartbeat well within it.
          sessionTimeout: options.sessionTimeoutMs ?? 10_000,
          rebalanceTimeout: 30_000,
          heartbeatInterval: 1_000,
          maxWaitTimeInMs: 100,
          retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 },
        },
        setup: async (c) => {
          c.on(c.events.GROUP_JOIN, ({ payload }) => onAssigned(new Set(payload.memberAssignment[topic] ?? [])));
          await c.connect();
          await c.subscribe({ topic, fromBeginning: true });
          await c.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: options.concurrency ?? 6,
            eachBatch,
          });
        },
      });
      await consumer.start();
    },
    async stop() {
      await consumer?.stop(); // waits for batches in hand, then leaves the group
      await Promise.all([...slots.values()].map((s) => s.producer?.disconnect().catch(() => {}) ?? Promise.resolve()));
      await admin?.disconnect();
    },
    readyPartitions() {
      return [...assigned].filter((p) => slots.get(p)?.prepared);
    },
  };
}
