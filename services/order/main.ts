// The order service. Roles (SERVICE_ROLES, default all): `processor` (the order
// processor, which drives the checkout saga, and the translator of inventory's
// answers) and `api` (read models, HTTP, the product-details client, and the
// flagging of open orders when a variant is discontinued).
import { createRequestReplyClient } from '../platform/messaging/request-reply.ts';
import { createCommandProcessor } from '../platform/processing/command-processor.ts';
import { createTranslator } from '../platform/processing/translator.ts';
import { createApi } from '../platform/runtime/api.ts';
import { runService, type ServiceDefinition } from '../platform/runtime/service.ts';
import type { ProductDetailsReplies } from '../../schemas/generated/product.details.replies.ts';
import type { ProductDetailsRequests } from '../../schemas/generated/product.details.requests.ts';
import { orderAggregate } from './aggregate.ts';
import { discontinuationFlagger } from './discontinuation-flagger.ts';
import { orderRoutes } from './http/routes.ts';
import { createStatusWatchers } from './http/status-watchers.ts';
import { inventoryToOrders } from './inventory-translator.ts';
import { orderReadModels } from './read-models.ts';

export const orderService: ServiceDefinition = {
  name: 'order',
  writes: (topics) => [topics.orderCommands, topics.orderEvents, topics.inventoryCommands, topics.productDetailsRequests],
  components: (context) => {
    const { kafka, codec, topics, config, logger, metrics } = context;
    const processor = createCommandProcessor({
      kafka,
      codec,
      definition: orderAggregate(topics, config.order),
      groupId: `${config.topicPrefix}order-processor`,
      logger: logger.child({ component: 'processor' }),
      maxPerTransaction: config.maxPerTransaction,
      onDecided: ({ type, outcome, latencyMs }) => {
        metrics.commandsDecided.inc({ aggregate: 'order', command: type, outcome });
        metrics.commandLatency.observe({ aggregate: 'order' }, latencyMs / 1000);
      },
      onTransaction: ({ ms }) => metrics.transactions.observe({ group: 'order-processor' }, ms / 1000),
    });
    const outcomes = createTranslator({
      kafka,
      codec,
      name: 'inventory-to-orders',
      source: 'order',
      groupId: `${config.topicPrefix}order-inventory-translator`,
      from: topics.inventoryEvents,
      translate: inventoryToOrders(topics),
      logger: logger.child({ component: 'inventory-translator' }),
    });
    const watchers = createStatusWatchers();
    const productDetails = createRequestReplyClient<ProductDetailsRequests, ProductDetailsReplies>({
      kafka,
      codec,
      source: 'order',
      requests: topics.productDetailsRequests,
      replies: topics.productDetailsReplies,
      groupPrefix: `${config.topicPrefix}order-product-details`,
      timeoutMs: 1500,
      logger: logger.child({ component: 'product-details' }),
    });
    const api = createApi(context, {
      port: config.ports.order,
      projections: orderReadModels(topics),
      routes: (deps) => orderRoutes({ topics, watchers, productDetails, priceCheckTimeoutMs: 1500, ...deps }),
      onEvent: (event) => {
        if (event.topic === topics.orderEvents.baseName && typeof event.data.orderId === 'string') watchers.notify(event.data.orderId);
      },
    });
    const flagger = createTranslator({
      kafka,
      codec,
      name: 'discontinuation-flagger',
      source: 'order',
      groupId: `${config.topicPrefix}order-discontinuation-flagger`,
      from: topics.productEvents,
      translate: discontinuationFlagger(topics, api.read),
      logger: logger.child({ component: 'discontinuation-flagger' }),
    });
    return [
      { name: 'processor', role: 'processor', start: () => processor.start(), stop: () => processor.stop() },
      { name: 'inventory-translator', role: 'processor', start: () => outcomes.start(), stop: () => outcomes.stop() },
      { name: 'product-details', role: 'api', start: () => productDetails.start(), stop: () => productDetails.stop() },
      ...api.components,
      { name: 'discontinuation-flagger', role: 'api', start: () => flagger.start(), stop: () => flagger.stop() },
    ];
  },
};

if (import.meta.url === `file://${process.argv[1]}`) runService(orderService);
