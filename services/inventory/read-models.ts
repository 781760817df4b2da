// Inventory's read models, in one place for the service and the rebuild tool.
import type { Projection } from '../platform/projections/projection.ts';
import type { ReadModelSource } from '../platform/projections/worker-protocol.ts';
import { topicsFor, type Topics } from '../topics.ts';
import { allocationsProjection } from './projections/allocations.ts';
import { movementsProjection } from './projections/movements.ts';
import { stockProjection } from './projections/stock.ts';
import { valuationProjection } from './projections/valuation.ts';

export function inventoryReadModels(topics: Topics): Projection[] {
  return [stockProjection(topics), allocationsProjection(topics), movementsProjection(topics), valuationProjection(topics)];
}

/** The same for a TOPIC_PREFIX: what a rebuild's worker thread calls. */
export const inventoryReadModelsFor = (prefix: string): Projection[] => inventoryReadModels(topicsFor(prefix));

/** Where a rebuild's worker thread finds these read models. */
export const inventoryReadModelsSource: ReadModelSource = { module: import.meta.url, export: 'inventoryReadModelsFor' };
