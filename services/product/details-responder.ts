// Answers ProductDetailsRequested from the catalogue read model on
// product.details.replies. Requests are queries: answering one twice is
// harmless, so the group commits offsets after answering (at least once).
// Poison, and a request that keeps failing after bounded retries, goes to the
// requests topic's dead-letter topic.
import type { Kafka, KafkaMessage } from 'kafkajs';
import { createSafeProducer, type SafeProducer } from '../platform/kafka/producer.ts';
import type { ProductDetailsRequests } from '../../schemas/generated/product.details.requests.ts';
import { fromHeaders, newId, toHeaders } from '../platform/headers.ts';
import type { Logger } from '../platform/logger.ts';
import { failureReason, observeHandler, type Metrics } from '../platform/metrics.ts';
import { deadLetterRecord } from '../platform/processing/dead-letters.ts';
import { createRetryBudget } from '../platform/processing/retry-budget.ts';
import { superviseConsumer, type SupervisedConsumer } from '../platform/kafka/supervised-consumer.ts';
import type { Health } from '../platform/runtime/health.ts';
import type { ProjectionRunner } from '../platform/projections/runner.ts';
import type { Codec } from '../platform/schemas/codec.ts';
import { decodeOrPoison } from '../platform/schemas/decode-or-poison.ts';
import type { TopicMessage } from '../platform/topics.ts';
import type { Topics } from '../topics.ts';
import { inConsumeSpan, traceOf } from '../platform/tracing/spans.ts';
import { catalogueQueries } from './http/queries.ts';
import { CATALOGUE } from './projections/catalogue.ts';

export interface DetailsResponderOptions {
  kafka: Kafka;
  codec: Codec;
  topics: Topics;
  read: ProjectionRunner;
  groupId: string;
  logger: Logger;
  metrics?: Metrics;
  health?: Health;
}

export function createDetailsResponder(options: DetailsResponderOptions) {
  const { kafka, codec, topics, read, logger } = options;
  const requests = topics.productDetailsRequests;
  const observer = observeHandler(options.metrics, 'responder:product-details');
  const budget = createRetryBudget(5);
  let consumer: SupervisedConsumer | undefined;
  let producer: SafeProducer | undefined;

  async function deadLetter(partition: number, message: KafkaMessage, reason: string) {
    const letter = deadLetterRecord({ topic: requests.name, partition, message }, reason, options.groupId);
    await producer!.send({ topic: letter.topic, messages: [letter] });
    observer.deadLettered(requests.name);
    logger.warn({ offset: message.offset, reason }, 'details request dead-lettered');
  }

  async function handle(partition: number, message: KafkaMessage) {
    const started = Date.now();
    const decoded = await decodeOrPoison(codec, requests, message.value); // throws while the registry is away: retried
    if (!decoded.ok) return deadLetter(partition, message, decoded.poison);
    const request = decoded.message;
    const key = `${partition}|${message.offset}`;
    const { correlationId } = fromHeaders(message.headers, Number(message.timestamp));
    try {
      await answer(request, correlationId);
    } catch (error) {
      observer.failed(failureReason(error));
      if (!budget.exhausted(key)) throw error; // kafkajs backs off and delivers it again
      budget.settle(key);
      return deadLetter(partition, message, `answering kept failing: ${(error as Error).message}`);
    }
    budget.settle(key);
    observer.handled([message], (Date.now() - started) / 1000);
  }

  async function answer(request: TopicMessage<ProductDetailsRequests>, correlationId: string) {
    const { requestId, variantIds } = request.data;
    const found = new Map(catalogueQueries.variantsWithProduct(read.db(CATALOGUE), variantIds).map((v) => [v.variant_id, v]));
    const variants = variantIds.map((variantId) => {
      const v = found.get(variantId);
      return v
        ? { variantId, found: true, productId: v.product_id, productName: v.product_name, sku: v.sku, priceMinor: v.price_minor, currency: v.currency, status: v.status as 'ACTIVE' }
        : { variantId, found: false, productId: null, productName: null, sku: null, priceMinor: null, currency: null, status: null };
    });
    const reply = { type: 'ProductDetailsProvided' as const, data: { requestId, variants, answeredAt: Date.now() } };
    await producer!.send({
      topic: topics.productDetailsReplies.name,
      messages: [
        {
          key: requestId,
          value: codec.encode(topics.productDetailsReplies, reply),
          headers: toHeaders({
            id: newId(),
            type: codec.fullName(topics.productDetailsReplies, reply.type),
            source: 'product',
            time: reply.data.answeredAt,
            correlationId,
            causationId: requestId,
            trace: traceOf(),
          }),
        },
      ],
    });
  }

  return {
    async start() {
      producer = createSafeProducer(kafka);
      await producer.connect();
      consumer = superviseConsumer({
        kafka,
        logger,
        metrics: options.metrics,
        health: options.health,
        config: { groupId: options.groupId, maxWaitTimeInMs: 50 },
        setup: async (c) => {
          await c.connect();
          await c.subscribe({ topic: requests.name, fromBeginning: false });
          // A batch's requests are answered together: their replies go out as one produce request.
          await c.run({
            eachBatch: async ({ batch }) => void (await Promise.all(batch.messages.map((m) => inConsumeSpan(requests.name, batch.partition, options.groupId, m, () => handle(batch.partition, m))))),
          });
        },
      });
      await consumer.start();
    },
    async stop() {
      await consumer?.stop();
      await producer?.disconnect();
    },
  };
}
