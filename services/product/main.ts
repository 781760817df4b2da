// The product service. Roles (SERVICE_ROLES, default all): `processor` (the
// catalogue processor, which inventory answers on product.commands) and `api`
// (read models, HTTP, and answers to product-details requests).
import fs from 'node:fs';
import { processorWrites } from '../platform/processing/command-processor.ts';
import { processorComponent } from '../platform/runtime/components.ts';
import { createApi } from '../platform/runtime/api.ts';
import { runService, type ServiceDefinition } from '../platform/runtime/service.ts';
import { productAggregate } from './aggregate.ts';
import { productSettings, type ProductSettings } from './config.ts';
import { createDetailsResponder } from './details-responder.ts';
import { productRoutes } from './http/routes.ts';
import { createInventoryClient } from './inventory-client.ts';
import { productReadModels } from './read-models.ts';
import { topicsFor, type Topics } from '../topics.ts';

export const productService: ServiceDefinition<ProductSettings, Topics> = {
  name: 'product',
  topics: topicsFor,
  settings: productSettings,
  writes: (topics) => [...processorWrites(productAggregate(topics)), topics.productDetailsReplies],
  components: (context, settings) => {
    const { kafka, codec, topics, config, logger, metrics, health } = context;
    const inventory = createInventoryClient({
      baseUrl: settings.inventoryUrl,
      logger: logger.child({ component: 'inventory-client' }),
      token: settings.inventoryToken,
      policy: settings.inventoryClient,
      metrics,
      ca: config.http.peerCaFile && fs.readFileSync(config.http.peerCaFile, 'utf8'),
    });
    if (!settings.inventoryToken && config.http.auth.mode === 'jwt') {
      logger.warn('INVENTORY_API_TOKEN is unset: real-time stock calls to inventory will be refused, and answers come from the local view');
    }
    const api = createApi(context, {
      port: settings.port,
      projections: productReadModels(topics),
      routes: (deps) => productRoutes({ topics, inventory, ...deps }),
    });
    const responderGroup = `${config.topicPrefix}product-details-responder`;
    const responder = createDetailsResponder({ kafka, codec, topics, read: api.read, groupId: responderGroup, logger: logger.child({ component: 'details-responder' }), metrics, health });
    return [
      processorComponent(context, productAggregate(topics)),
      ...api.components,
      {
        name: 'details-responder',
        role: 'api',
        start: () => responder.start(),
        stop: () => responder.stop(),
        consumes: [{ topic: topics.productDetailsRequests.name, groupId: responderGroup }],
      },
    ];
  },
};

if (import.meta.url === `file://${process.argv[1]}`) runService(productService);
