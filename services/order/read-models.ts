// The order service's read models, in one place for the service and the rebuild tool.
import type { Projection } from '../platform/projections/projection.ts';
import type { ReadModelSource } from '../platform/projections/worker-protocol.ts';
import { topicsFor, type Topics } from '../topics.ts';
import { catalogueSnapshotProjection } from './projections/catalogue-snapshot.ts';
import { orderItemsProjection } from './projections/order-items.ts';
import { ordersProjection } from './projections/orders.ts';

export function orderReadModels(topics: Topics): Projection[] {
  return [ordersProjection(topics), orderItemsProjection(topics), catalogueSnapshotProjection(topics)];
}

/** The same for a TOPIC_PREFIX: what a rebuild's worker thread calls. */
export const orderReadModelsFor = (prefix: string): Projection[] => orderReadModels(topicsFor(prefix));

/** Where a rebuild's worker thread finds these read models. */
export const orderReadModelsSource: ReadModelSource = { module: import.meta.url, export: 'orderReadModelsFor' };
