// The product service. Roles (SERVICE_ROLES, default all): `processor` (the
// catalogue processor and the translator from inventory's answers) and `api`
// (read models, HTTP, and answers to product-details requests).
import { createCommandProcessor } from '../platform/processing/command-processor.ts';
import { createTranslator } from '../platform/processing/translator.ts';
import { createApi } from '../platform/runtime/api.ts';
import { runService, type ServiceDefinition } from '../platform/runtime/service.ts';
import { productAggregate } from './aggregate.ts';
import { createDetailsResponder } from './details-responder.ts';
import { productRoutes } from './http/routes.ts';
import { createInventoryClient } from './inventory-client.ts';
import { inventoryToCatalogue } from './inventory-translator.ts';
import { productReadModels } from './read-models.ts';

export const productService: ServiceDefinition = {
  name: 'product',
  writes: (topics) => [topics.productCommands, topics.productEvents, topics.productDetailsReplies],
  components: (context) => {
    const { kafka, codec, topics, config, logger, metrics } = context;
    const processor = createCommandProcessor({
      kafka,
      codec,
      definition: productAggregate(topics),
      groupId: `${config.topicPrefix}product-processor`,
      logger: logger.child({ component: 'processor' }),
      maxPerTransaction: config.maxPerTransaction,
      onDecided: ({ type, outcome, latencyMs }) => {
        metrics.commandsDecided.inc({ aggregate: 'product', command: type, outcome });
        metrics.commandLatency.observe({ aggregate: 'product' }, latencyMs / 1000);
      },
      onTransaction: ({ ms }) => metrics.transactions.observe({ group: 'product-processor' }, ms / 1000),
    });
    const translator = createTranslator({
      kafka,
      codec,
      name: 'inventory-to-catalogue',
      source: 'product',
      groupId: `${config.topicPrefix}product-inventory-translator`,
      from: topics.inventoryEvents,
      translate: inventoryToCatalogue(topics),
      logger: logger.child({ component: 'inventory-translator' }),
    });
    const inventory = createInventoryClient({
      baseUrl: config.inventoryUrl,
      logger: logger.child({ component: 'inventory-client' }),
    });
    const api = createApi(context, {
      port: config.ports.product,
      projections: productReadModels(topics),
      routes: (deps) => productRoutes({ topics, inventory, ...deps }),
    });
    const responder = createDetailsResponder({ kafka, codec, topics, read: api.read, groupId: `${config.topicPrefix}product-details-responder`, logger: logger.child({ component: 'details-responder' }) });
    return [
      { name: 'processor', role: 'processor', start: () => processor.start(), stop: () => processor.stop() },
      { name: 'inventory-translator', role: 'processor', start: () => translator.start(), stop: () => translator.stop() },
      ...api.components,
      { name: 'details-responder', role: 'api', start: () => responder.start(), stop: () => responder.stop() },
    ];
  },
};

if (import.meta.url === `file://${process.argv[1]}`) runService(productService);
