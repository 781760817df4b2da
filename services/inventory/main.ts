// The inventory service. Roles (SERVICE_ROLES, default all): `processor` (the
// reservation processor and the catalogue translator) and `api` (read models
// and HTTP).
import { processorWrites } from '../platform/processing/command-processor.ts';
import { processorComponent, translatorComponent } from '../platform/runtime/components.ts';
import { createApi } from '../platform/runtime/api.ts';
import { createLiveHub } from '../platform/http/live-updates.ts';
import { runService, type ServiceDefinition } from '../platform/runtime/service.ts';
import { countReservationOutcomes, gaugeBlockedRetirements } from './metrics.ts';
import { inventoryAggregate } from './aggregate.ts';
import { inventorySettings, type InventorySettings } from './config.ts';
import { catalogueToInventory } from './catalogue-translator.ts';
import { stockQueries } from './http/queries.ts';
import { inventoryRoutes } from './http/routes.ts';
import { stockLive } from './http/live.ts';
import { STOCK } from './projections/stock.ts';
import { inventoryReadModels } from './read-models.ts';
import { topicsFor, type Topics } from '../topics.ts';

export const inventoryService: ServiceDefinition<InventorySettings, Topics> = {
  name: 'inventory',
  topics: topicsFor,
  settings: inventorySettings,
  writes: (topics) => processorWrites(inventoryAggregate(topics)),
  components: (context, settings) => {
    const { topics } = context;
    const live = stockLive(topics.inventoryEvents, createLiveHub({ maxConnections: context.config.http.maxStreams, metrics: context.metrics }));
    const api = createApi(context, {
      port: settings.port,
      projections: inventoryReadModels(topics),
      routes: (deps) => inventoryRoutes({ topics, ...deps }),
      streams: (deps) => [live.stream(deps.read)],
      onEvent: (event, read) => live.onEvent(event, read),
    });
    if (context.runs('api')) gaugeBlockedRetirements(context.metrics, () => stockQueries.blockedRetirementCount(api.read.db(STOCK)));
    return [
      processorComponent(context, inventoryAggregate(topics), countReservationOutcomes(context.metrics)),
      translatorComponent(context, { name: 'catalogue-translator', role: 'processor', from: topics.productEvents, translate: catalogueToInventory(topics) }),
      ...api.components,
    ];
  },
};

if (import.meta.url === `file://${process.argv[1]}`) runService(inventoryService);
