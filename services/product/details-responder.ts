// Answers ProductDetailsRequested from the catalogue read model on
// product.details.replies. Requests are queries: answering one twice is
// harmless, so the group commits offsets after answering (at least once).
import type { Consumer, Kafka } from 'kafkajs';
import { createSafeProducer, type SafeProducer } from '../platform/kafka/producer.ts';
import type { ProductDetailsRequests } from '../../schemas/generated/product.details.requests.ts';
import { fromHeaders, newId, toHeaders } from '../platform/headers.ts';
import type { Logger } from '../platform/logger.ts';
import { deadLetterRecord } from '../platform/processing/dead-letters.ts';
import type { ProjectionRunner } from '../platform/projections/runner.ts';
import type { Codec } from '../platform/schemas/codec.ts';
import type { Topics, TopicMessage } from '../platform/topics.ts';
import { catalogueQueries } from './http/queries.ts';
import { CATALOGUE } from './projections/catalogue.ts';

export function createDetailsResponder(options: { kafka: Kafka; codec: Codec; topics: Topics; read: ProjectionRunner; groupId: string; logger: Logger }) {
  const { kafka, codec, topics, read, logger } = options;
  let consumer: Consumer | undefined;
  let producer: SafeProducer | undefined;

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
      acks: -1,
      messages: [{
        key: requestId,
        value: await codec.encode(topics.productDetailsReplies, reply),
        headers: toHeaders({ id: newId(), type: codec.fullName(topics.productDetailsReplies, reply.type), source: 'product', time: reply.data.answeredAt, correlationId, causationId: requestId }),
      }],
    });
  }

  return {
    async start() {
      producer = createSafeProducer(kafka);
      await producer.connect();
      consumer = kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 50 });
      await consumer.connect();
      await consumer.subscribe({ topic: topics.productDetailsRequests.name, fromBeginning: false });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          let request: TopicMessage<ProductDetailsRequests>;
          try {
            request = (await codec.decode(topics.productDetailsRequests, message.value)).message;
          } catch (error) {
            const reason = `undecodable: ${(error as Error).message}`;
            await producer!.send({ topic: `${topics.productDetailsRequests.name}.dlq`, acks: -1, messages: [deadLetterRecord({ topic: topics.productDetailsRequests.name, partition, message }, reason, options.groupId)] });
            logger.warn({ offset: message.offset, reason }, 'details request dead-lettered');
            return;
          }
          await answer(request, fromHeaders(message.headers, Number(message.timestamp)).correlationId);
        },
      });
    },
    async stop() {
      await consumer?.disconnect();
      await producer?.disconnect();
    },
  };
}
