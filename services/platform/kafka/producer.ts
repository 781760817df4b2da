// A non-transactional idempotent producer (acks from all in-sync replicas) that
// coalesces concurrent sends and is replaced after any failed send.
//
// Coalescing: an idempotent producer keeps one request in flight (that is what
// keeps its ordering and deduplication sound), so each `send` would otherwise
// wait for the one before it, one round trip apiece. Here sends made while a
// request is in flight are queued and go out together, as one request, when it
// returns: as many round trips as the broker's latency allows, however many
// callers, and each caller still learns the fate of its own records. Order is
// kept: records of earlier calls precede those of later ones.
//
// Replacement: kafkajs tracks sequence numbers per partition and only advances
// them on success; after a send whose fate is unknown (a timeout, a broker
// restart) the next message could reuse a number the broker already holds and
// be dropped as a duplicate. A fresh producer gets a fresh producer id.
import type { Kafka, Message, Producer, RecordMetadata } from 'kafkajs';

export interface SafeProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: Message[] }): Promise<RecordMetadata[]>;
}

export interface SafeProducerOptions {
  /** Records per request at most; more wait for the next one. */
  maxBatchRecords?: number;
}

interface Pending {
  topic: string;
  messages: Message[];
  resolve(metadata: RecordMetadata[]): void;
  reject(error: unknown): void;
}

export function createSafeProducer(kafka: Kafka, options: SafeProducerOptions = {}): SafeProducer {
  const maxBatchRecords = options.maxBatchRecords ?? 2000;
  let current: Promise<Producer> | undefined;
  let queue: Pending[] = [];
  let flushing = false;

  const fresh = () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    return producer.connect().then(() => producer);
  };
  const producer = () =>
    (current ??= fresh().catch((error: unknown) => {
      current = undefined;
      throw error;
    }));

  /** The next request's worth of queued sends (at least one, whatever its size). */
  function take(): Pending[] {
    let records = 0;
    let n = 0;
    while (n < queue.length && (n === 0 || records + queue[n]!.messages.length <= maxBatchRecords)) records += queue[n++]!.messages.length;
    const taken = queue.slice(0, n);
    queue = queue.slice(n);
    return taken;
  }

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = take();
        const byTopic = new Map<string, Message[]>();
        for (const p of batch) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), ...p.messages]);
        let p: Producer | undefined;
        try {
          p = await producer();
          const metadata = await p.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
          for (const pending of batch) pending.resolve(metadata.filter((m) => m.topicName === pending.topic));
        } catch (error) {
          if (p && current) {
            current = undefined;
            void p.disconnect().catch(() => {});
          }
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      flushing = false;
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
    send(record) {
      return new Promise((resolve, reject) => {
        queue.push({ topic: record.topic, messages: record.messages, resolve, reject });
        if (!flushing) void flush();
      });
    },
  };
}
