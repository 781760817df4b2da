// The order service. Roles (SERVICE_ROLES, default all): `processor` (the order
// processor, which drives the checkout saga; inventory answers it on
// order.commands) and `api` (read models, HTTP, the product-details client, and the
// flagging of open orders when a variant is discontinued).
import { createRequestReplyClient } from '../platform/messaging/request-reply.ts';
import { processorWrites } from '../platform/processing/command-processor.ts';
import { processorComponent, translatorComponent } from '../platform/runtime/components.ts';
import { createApi } from '../platform/runtime/api.ts';
import { createLiveHub } from '../platform/http/live-updates.ts';
import { runService, type ServiceDefinition } from '../platform/runtime/service.ts';
import type { ProductDetailsReplies } from '../../schemas/generated/product.details.replies.ts';
import type { ProductDetailsRequests } from '../../schemas/generated/product.details.requests.ts';
import { orderAggregate } from './aggregate.ts';
import { orderSettings, type OrderServiceSettings } from './config.ts';
import { countFlaggedOrders } from './metrics.ts';
import { orderQueries } from './http/queries.ts';
import { createProductDetails } from './product-details.ts';
import { ORDERS } from './projections/orders.ts';
import { createSagaAdmission } from './saga-admission.ts';
import { discontinuationFlagger } from './discontinuation-flagger.ts';
import { orderRoutes } from './http/routes.ts';
import { createStatusWatchers } from './http/status-watchers.ts';
import { orderLive } from './http/live.ts';
import { orderReadModels } from './read-models.ts';
import { topicsFor, type Topics } from '../topics.ts';

/** The order service over the given read models (tests give it a catalogue copy that lags). */
export const orderServiceWith = (readModels: typeof orderReadModels): ServiceDefinition<OrderServiceSettings, Topics> => ({
  name: 'order',
  topics: topicsFor,
  settings: orderSettings,
  // (Placing an order appends to order.commands, the processor's own command topic.)
  writes: (topics, settings) => [...processorWrites(orderAggregate(topics, settings.saga)), topics.productDetailsRequests],
  components: (context, settings) => {
    const { kafka, codec, topics, config, logger, metrics } = context;
    const watchers = createStatusWatchers();
    const live = orderLive(topics.orderEvents, createLiveHub({ maxConnections: config.http.maxStreams, metrics }));
    const requestReply = createRequestReplyClient<ProductDetailsRequests, ProductDetailsReplies>({
      kafka,
      codec,
      source: 'order',
      requests: topics.productDetailsRequests,
      replies: topics.productDetailsReplies,
      groupPrefix: `${config.topicPrefix}order-product-details`,
      timeoutMs: settings.productDetails.timeoutMs,
      logger: logger.child({ component: 'product-details' }),
    });
    const productDetails = createProductDetails(requestReply, settings.productDetails, logger.child({ component: 'product-details' }), metrics);
    const api = createApi(context, {
      port: settings.port,
      projections: readModels(topics),
      routes: (deps) =>
        orderRoutes({
          topics,
          watchers,
          productDetails,
          sagas: createSagaAdmission((lateBefore) => orderQueries.openSagas(deps.read.db(ORDERS), lateBefore), settings.sagaLimits, { metrics }),
          ...deps,
        }),
      streams: (deps) => [live.stream(deps.read)],
      onEvent: (event) => {
        if (event.topic === topics.orderEvents.baseName && typeof event.data.orderId === 'string') watchers.notify(event.data.orderId);
        live.onEvent(event);
      },
    });
    return [
      processorComponent(context, orderAggregate(topics, settings.saga), countFlaggedOrders(metrics)),
      { name: 'product-details', role: 'api', start: () => requestReply.start(), stop: () => requestReply.stop() },
      ...api.components,
      translatorComponent(context, { name: 'discontinuation-flagger', role: 'api', from: topics.productEvents, translate: discontinuationFlagger(topics, api.read) }),
    ];
  },
});

export const orderService = orderServiceWith(orderReadModels);

if (import.meta.url === `file://${process.argv[1]}`) runService(orderService);
