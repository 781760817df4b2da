// Request-reply over the log: a request is a message keyed by a fresh request
// id; whoever serves the requests topic answers on the replies topic under the
// same key. The client listens to the replies topic from where it ended when
// the client started, correlates answers by request id, and gives up cleanly
// after a timeout (the pending request is forgotten; a late answer is ignored).
import crypto from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { createSafeProducer, type SafeProducer } from '../kafka/producer.ts';
import { superviseConsumer, type SupervisedConsumer } from '../kafka/supervised-consumer.ts';
import { newId, toHeaders } from '../headers.ts';
import type { Logger } from '../logger.ts';
import type { Codec } from '../schemas/codec.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';
import { inProduceSpan, traceOf } from '../tracing/spans.ts';

export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
  constructor(
    readonly requestId: string,
    timeoutMs: number,
  ) {
    super(`no reply to request ${requestId} within ${timeoutMs}ms`);
  }
}

export interface RequestReplyClient<Q extends RecordMap, R extends RecordMap> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sends a request (its key field is set here) and resolves with the reply. */
  request(message: TopicMessage<Q>, options?: { timeoutMs?: number; correlationId?: string }): Promise<TopicMessage<R>>;
  pending(): number;
}

export interface RequestReplyOptions<Q extends RecordMap, R extends RecordMap> {
  kafka: Kafka;
  codec: Codec;
  source: string;
  requests: TopicDescriptor<Q>;
  replies: TopicDescriptor<R>;
  groupPrefix: string;
  timeoutMs: number;
  logger: Logger;
}

export function createRequestReplyClient<Q extends RecordMap, R extends RecordMap>(options: RequestReplyOptions<Q, R>): RequestReplyClient<Q, R> {
  const { kafka, codec, requests, replies, logger } = options;
  const waiting = new Map<string, { resolve(reply: TopicMessage<R>): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  let producer: SafeProducer | undefined;
  let consumer: SupervisedConsumer | undefined;

  async function answered(message: KafkaMessage): Promise<void> {
    const id = message.key?.toString();
    const waiter = id ? waiting.get(id) : undefined;
    if (!waiter || !id) return;
    waiting.delete(id);
    clearTimeout(waiter.timer);
    try {
      waiter.resolve((await codec.decode(replies, message.value)).message);
    } catch (error) {
      waiter.reject(error as Error);
    }
  }

  return {
    async start() {
      producer = createSafeProducer(kafka);
      await producer.connect();
      consumer = superviseConsumer({
        kafka,
        logger,
        config: { groupId: `${options.groupPrefix}-replies-${crypto.randomUUID()}`, maxWaitTimeInMs: 50 },
        setup: async (c) => {
          // Where the replies topic ends now: answers to our requests come after.
          const admin = kafka.admin();
          await admin.connect();
          const ends = await admin.fetchTopicOffsets(replies.name).finally(() => admin.disconnect());
          let joined!: () => void;
          const ready = new Promise<void>((resolve) => (joined = resolve));
          c.on(c.events.GROUP_JOIN, () => {
            for (const end of ends) c.seek({ topic: replies.name, partition: end.partition, offset: end.high });
            joined();
          });
          await c.connect();
          await c.subscribe({ topic: replies.name, fromBeginning: false });
          await c.run({ eachMessage: async ({ message }) => answered(message) });
          await ready;
        },
      });
      await consumer.start();
    },
    async stop() {
      for (const [id, w] of waiting) {
        clearTimeout(w.timer);
        w.reject(new Error(`request ${id} abandoned: the client stopped`));
      }
      waiting.clear();
      await consumer?.stop();
      await producer?.disconnect();
    },
    async request(message, { timeoutMs = options.timeoutMs, correlationId } = {}) {
      if (!producer) throw new Error('request-reply client not started');
      const requestId = newId();
      const data = { ...(message.data as object), [requests.key]: requestId };
      const request = { type: message.type, data } as TopicMessage<Q>;
      const answer = new Promise<TopicMessage<R>>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(requestId);
          reject(new RequestTimeoutError(requestId, timeoutMs));
        }, timeoutMs);
        waiting.set(requestId, { resolve, reject, timer });
      });
      // The timeout may fire while the send is still retrying; it is awaited below.
      answer.catch(() => {});
      try {
        await inProduceSpan(requests.name, correlationId, () =>
          producer!.send({
            topic: requests.name,
            messages: [
              {
                key: requestId,
                value: codec.encode(requests, request),
                headers: toHeaders({
                  id: requestId,
                  type: codec.fullName(requests, request.type),
                  source: options.source,
                  time: Date.now(),
                  correlationId: correlationId ?? requestId,
                  trace: traceOf(),
                }),
              },
            ],
          }),
        );
      } catch (error) {
        const waiter = waiting.get(requestId);
        if (waiter) clearTimeout(waiter.timer);
        waiting.delete(requestId);
        logger.warn({ requestId, error: (error as Error).message }, 'request could not be sent');
        throw error;
      }
      return answer;
    },
    pending: () => waiting.size,
  };
}
