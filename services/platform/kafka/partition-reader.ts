// Reads chosen partitions of a topic between two offsets, with read_committed.
// kafkajs has no manual partition assignment, so a throwaway consumer group of
// one member uses an assigner that hands it exactly the wanted partitions, then
// seeks each to its start. "Done" is judged from the end of every fetched
// batch, control records included (a partition often ends on a commit marker,
// which never reaches user code).
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
  const pending = new Map(options.ranges.filter((r) => r.from < r.to).map((r) => [r.partition, r]));
  if (pending.size === 0) return;
  const consumer = kafka.consumer({
    groupId: `${options.groupPrefix ?? 'reader'}-${crypto.randomUUID()}`,
    partitionAssigners: [fixedAssigner(topic, [...pending.keys()])],
    maxWaitTimeInMs: 50,
    maxBytesPerPartition: 4 * 1024 * 1024,
    retry: { retries: 5 },
  });
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const markProgress = (partition: number, lastOffset: string) => {
    const range = pending.get(partition);
    if (range && BigInt(lastOffset) + 1n >= range.to) pending.delete(partition);
    if (pending.size === 0) finish();
  };
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
        if (!range) return;
        const wanted = batch.messages.filter((m) => BigInt(m.offset) < range.to);
        if (wanted.length > 0) await onBatch(batch.partition, wanted);
        resolveOffset(batch.lastOffset());
        await onProgress?.();
      },
    });
    for (const range of pending.values()) consumer.seek({ topic, partition: range.partition, offset: range.from.toString() });
    await done;
  } finally {
    await consumer.disconnect();
  }
}
