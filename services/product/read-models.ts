// The product service's read models, in one place for the service and the rebuild tool.
import type { Projection } from '../platform/projections/projection.ts';
import type { ReadModelSource } from '../platform/projections/worker-protocol.ts';
import { topicsFor, type Topics } from '../topics.ts';
import { catalogueProjection } from './projections/catalogue.ts';
import { pricesProjection } from './projections/prices.ts';
import { searchProjection } from './projections/search.ts';
import { stockViewProjection } from './projections/stock-view.ts';

export function productReadModels(topics: Topics): Projection[] {
  return [catalogueProjection(topics), stockViewProjection(topics), pricesProjection(topics), searchProjection(topics)];
}

/** The same for a TOPIC_PREFIX: what a rebuild's worker thread calls. */
export const productReadModelsFor = (prefix: string): Projection[] => productReadModels(topicsFor(prefix));

/** Where a rebuild's worker thread finds these read models. */
export const productReadModelsSource: ReadModelSource = { module: import.meta.url, export: 'productReadModelsFor' };
