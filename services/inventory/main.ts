// The inventory service. Roles (SERVICE_ROLES, default all): `processor` (the
// reservation processor and the catalogue translator) and `api` (read models
// and HTTP).
import type { Decided } from '../platform/processing/command-processor.ts';
import { processorComponent, translatorComponent } from '../platform/runtime/components.ts';
import { createApi } from '../platform/runtime/api.ts';
import { runService, type ServiceDefinition } from '../platform/runtime/service.ts';
import type { Metrics } from '../platform/metrics.ts';
import { inventoryAggregate } from './aggregate.ts';
import { catalogueToInventory } from './catalogue-translator.ts';
import { inventoryRoutes } from './http/routes.ts';
import { inventoryReadModels } from './read-models.ts';

/** Where each reservation went: reserved, rejected, released, expired or sold. */
function countReservationOutcomes(metrics: Metrics) {
  return ({ events }: Decided) => {
    for (const event of events) {
      const outcome = {
        StockReserved: 'reserved',
        ReservationRejected: 'rejected',
        StockReleased: 'released',
        ReservationExpired: 'expired',
        StockLevelChanged: (event.data as { changeType?: string }).changeType === 'SALE' ? 'sold' : undefined,
      }[event.type];
      if (outcome) metrics.reservationOutcomes.inc({ outcome });
    }
  };
}

export const inventoryService: ServiceDefinition = {
  name: 'inventory',
  writes: (topics) => [topics.inventoryCommands, topics.inventoryEvents],
  components: (context) => {
    const { topics, config } = context;
    const api = createApi(context, {
      port: config.ports.inventory,
      projections: inventoryReadModels(topics),
      routes: (deps) => inventoryRoutes({ topics, ...deps }),
    });
    return [
      processorComponent(context, inventoryAggregate(topics), countReservationOutcomes(context.metrics)),
      translatorComponent(context, { name: 'catalogue-translator', role: 'processor', from: topics.productEvents, translate: catalogueToInventory(topics) }),
      ...api.components,
    ];
  },
};

if (import.meta.url === `file://${process.argv[1]}`) runService(inventoryService);
