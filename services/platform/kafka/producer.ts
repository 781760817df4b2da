// A non-transactional idempotent producer that is replaced after any failed
// send. kafkajs tracks sequence numbers per partition and only advances them on
// success; after a send whose fate is unknown (a timeout, a broker restart) the
// next message could reuse a number the broker already holds and be dropped as
// a duplicate. A fresh producer gets a fresh producer id and starts clean.
import type { Kafka, Producer, ProducerBatch, ProducerRecord, RecordMetadata } from 'kafkajs';

export interface SafeProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>;
}

export function createSafeProducer(kafka: Kafka): SafeProducer {
  let current: Promise<Producer> | undefined;
  const fresh = () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    return producer.connect().then(() => producer);
  };
  const producer = () => (current ??= fresh().catch((error: unknown) => {
    current = undefined;
    throw error;
  }));
  async function attempt<T>(work: (p: Producer) => Promise<T>): Promise<T> {
    const p = await producer();
    try {
      return await work(p);
    } catch (error) {
      if (current) {
        current = undefined;
        void p.disconnect().catch(() => {});
      }
      throw error;
    }
  }
  return {
    connect: async () => {
      await producer();
    },
    disconnect: async () => {
      const p = current;
      current = undefined;
      await (await p?.catch(() => undefined))?.disconnect();
    },
    send: (record) => attempt((p) => p.send({ acks: -1, ...record })),
    sendBatch: (batch) => attempt((p) => p.sendBatch({ acks: -1, ...batch })),
  };
}
