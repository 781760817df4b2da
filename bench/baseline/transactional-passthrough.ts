// The baseline for the reservation benchmark: a raw kafkajs transactional
// consume -> produce loop with a no-op transform. Same shape as the command
// processor (a transactional producer per input partition, a chunk of messages
// per transaction, offsets committed in it) but no decoding, no deciding, no
// state: the bytes of each message are copied to the same partition of the
// output topic.
import type { Kafka, Producer } from 'kafkajs';
import { sendOffsetsWithRetry, TRANSACTIONAL_RETRY } from '../../services/platform/kafka/transactions.ts';

export interface PassthroughOptions {
  kafka: Kafka;
  groupId: string;
  input: string;
  output: string;
  maxPerTransaction: number;
  concurrency: number;
  onTransaction?: (messages: number) => void;
}

export function createPassthrough(options: PassthroughOptions) {
  const { kafka, groupId, input, output } = options;
  const producers = new Map<number, Producer>();
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1_000 });

  async function producerFor(partition: number): Promise<Producer> {
    let producer = producers.get(partition);
    if (!producer) {
      // The same retries as the processors' producers, so the comparison is of the work, not of the settings.
      producer = kafka.producer({ transactionalId: `${groupId}-${partition}`, idempotent: true, maxInFlightRequests: 1, retry: TRANSACTIONAL_RETRY });
      await producer.connect();
      producers.set(partition, producer);
    }
    return producer;
  }

  return {
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topic: input, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.concurrency,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning }) => {
          const producer = await producerFor(batch.partition);
          for (let i = 0; i < batch.messages.length && isRunning(); i += options.maxPerTransaction) {
            const chunk = batch.messages.slice(i, i + options.maxPerTransaction);
            const transaction = await producer.transaction();
            try {
              await transaction.send({
                topic: output,
                acks: -1,
                messages: chunk.map((m) => ({ key: m.key, value: m.value, headers: m.headers ?? {}, partition: batch.partition })),
              });
              const next = (BigInt(chunk[chunk.length - 1]!.offset) + 1n).toString();
              await sendOffsetsWithRetry(transaction, { consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: batch.partition, offset: next }] }] });
              await transaction.commit();
            } catch (error) {
              await transaction.abort().catch(() => {});
              throw error;
            }
            options.onTransaction?.(chunk.length);
            resolveOffset(chunk[chunk.length - 1]!.offset);
            await heartbeat();
          }
        },
      });
    },
    async stop() {
      await consumer.disconnect();
      await Promise.all([...producers.values()].map((p) => p.disconnect()));
    },
  };
}
