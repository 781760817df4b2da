// Reads chosen partitions of a topic between two offsets, with read_committed.
// kafkajs has no manual partition assignment, so a throwaway consumer group of
// one member uses an assigner that hands it exactly the wanted partitions, then
// seeks each to its start. "Done" is judged from the end of every fetched
// batch, control records included (a partition often ends on a commit marker,
// which never reaches user code).
//
// The reader owns its failures. Its caller's heartbeat (onProgress) and its
// onBatch may throw errors kafkajs would take for the *reader's* own (a caller
// whose group is rebalancing answers REBALANCE_IN_PROGRESS or NOT_COORDINATOR):
// handed to the reader's runner, they made it rejoin its own group and read
// again from the start, over and over, while the caller waited (seen in
// npm run test:cluster when a group coordinator was killed). Any such error
// ends the read instead, as does a crash or a read that stops moving.
import crypto from 'node:crypto';
import kafkajs, { type Kafka, type KafkaMessage, type PartitionAssigner } from 'kafkajs';

const { AssignerProtocol } = kafkajs;

export interface PartitionRange {
  partition: number;
  /** First offset to read. */
  from: bigint;
  /** Offset to reach (exclusive): usually the high watermark after fencing. */
  to: bigint;
}

export interface ReadOptions {
  kafka: Kafka;
  topic: string;
  ranges: PartitionRange[];
  /** Called in offset order within each partition. */
  onBatch: (partition: number, messages: KafkaMessage[]) => Promise<void> | void;
  /** Called while reading, so a caller inside a consumer group can heartbeat. */
  onProgress?: () => Promise<void>;
  groupPrefix?: string;
  /** A read with no batch for this long fails rather than waits (default 60 s, past a leader election). */
  stalledAfterMs?: number;
}

function fixedAssigner(topic: string, partitions: number[]): PartitionAssigner {
  return () => ({
    name: 'FixedPartitions',
    version: 1,
    async assign({ members }) {
      return members.map((member, i) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: i === 0 ? { [topic]: partitions } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return { name: 'FixedPartitions', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
    },
  });
}

export async function readPartitions(options: ReadOptions): Promise<void> {
  const { kafka, topic, onBatch, onProgress } = options;
  const stalledAfterMs = options.stalledAfterMs ?? 60_000;
  const pending = new Map(options.ranges.filter((r) => r.from < r.to).map((r) => [r.partition, r]));
  if (pending.size === 0) return;
  const consumer = kafka.consumer({
    groupId: `${options.groupPrefix ?? 'reader'}-${crypto.randomUUID()}`,
    partitionAssigners: [fixedAssigner(topic, [...pending.keys()])],
    maxWaitTimeInMs: 50,
    maxBytesPerPartition: 4 * 1024 * 1024,
    // A crash ends the read (below); a restart in the background would only race the caller's retry.
    retry: { retries: 5, restartOnFailure: async () => false },
  });
  let failure: unknown;
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = (error) => {
      failure ??= error;
      reject(error instanceof Error ? error : new Error(String(error)));
    };
  });
  done.catch(() => {}); // awaited below; a crash inside run() must not surface as an unhandled rejection first
  let lastBatchAt = Date.now();
  const markProgress = (partition: number, lastOffset: string) => {
    lastBatchAt = Date.now();
    const range = pending.get(partition);
    if (range && BigInt(lastOffset) + 1n >= range.to) pending.delete(partition);
    if (pending.size === 0) finish();
  };
  const stallCheck = setInterval(
    () => {
      if (Date.now() - lastBatchAt < stalledAfterMs) return;
      const left = [...pending.values()].map((r) => `${r.partition} up to ${r.to}`).join(', ');
      fail(new Error(`reading ${topic} stalled: no batch for ${Date.now() - lastBatchAt} ms; partitions left: ${left}`));
    },
    Math.min(5_000, stalledAfterMs),
  );
  stallCheck.unref();
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => markProgress(payload.partition, payload.lastOffset));
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        const range = pending.get(batch.partition);
        if (!range || failure !== undefined) return;
        try {
          const wanted = batch.messages.filter((m) => BigInt(m.offset) < range.to);
          if (wanted.length > 0) await onBatch(batch.partition, wanted);
          resolveOffset(batch.lastOffset());
          await onProgress?.();
        } catch (error) {
          fail(error);
        }
      },
    });
    // run() returns after a crash while joining too: then there is nothing to seek.
    if (failure === undefined) for (const range of pending.values()) consumer.seek({ topic, partition: range.partition, offset: range.from.toString() });
    await done;
  } finally {
    clearInterval(stallCheck);
    await consumer.disconnect();
  }
}
