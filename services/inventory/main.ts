// The inventory service. Roles (SERVICE_ROLES, default all): `processor` (the
// reservation processor and the catalogue translator) and `api` (read models
// and HTTP).
import { createCommandProcessor } from '../platform/processing/command-processor.ts';
import { createTranslator } from '../platform/processing/translator.ts';
import { createApi } from '../platform/runtime/api.ts';
import { runService, type Component, type ServiceDefinition } from '../platform/runtime/service.ts';
import { inventoryAggregate } from './aggregate.ts';
import { catalogueToInventory } from './catalogue-translator.ts';
import { inventoryRoutes } from './http/routes.ts';
import { inventoryReadModels } from './read-models.ts';

export const inventoryService: ServiceDefinition = {
  name: 'inventory',
  writes: (topics) => [topics.inventoryCommands, topics.inventoryEvents],
  components: (context) => {
    const { kafka, codec, topics, config, logger, metrics } = context;
    const processor = createCommandProcessor({
      kafka,
      codec,
      definition: inventoryAggregate(topics),
      groupId: `${config.topicPrefix}inventory-processor`,
      logger: logger.child({ component: 'processor' }),
      maxPerTransaction: config.maxPerTransaction,
      onDecided: ({ type, outcome, latencyMs }) => {
        metrics.commandsDecided.inc({ aggregate: 'inventory', command: type, outcome });
        metrics.commandLatency.observe({ aggregate: 'inventory' }, latencyMs / 1000);
      },
      onTransaction: ({ ms }) => metrics.transactions.observe({ group: 'inventory-processor' }, ms / 1000),
    });
    const translator = createTranslator({
      kafka,
      codec,
      name: 'catalogue-to-inventory',
      source: 'inventory',
      groupId: `${config.topicPrefix}inventory-catalogue-translator`,
      from: topics.productEvents,
      translate: catalogueToInventory(topics),
      logger: logger.child({ component: 'catalogue-translator' }),
    });
    const api = createApi(context, {
      port: config.ports.inventory,
      projections: inventoryReadModels(topics),
      routes: (deps) => inventoryRoutes({ topics, ...deps }),
    });
    const components: Component[] = [
      { name: 'processor', role: 'processor', start: () => processor.start(), stop: () => processor.stop() },
      { name: 'catalogue-translator', role: 'processor', start: () => translator.start(), stop: () => translator.stop() },
      ...api.components,
    ];
    return components;
  },
};

if (import.meta.url === `file://${process.argv[1]}`) runService(inventoryService);
