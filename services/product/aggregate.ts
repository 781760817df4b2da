// The catalogue's write side: the product decider on product.commands/events,
// with SKUs as keys unique across the catalogue's single partition.
import type { AggregateDefinition } from '../platform/processing/command-processor.ts';
import type { Topics } from '../topics.ts';
import { productDecider } from './decider/decider.ts';
import { claimedSkus, type ProductCommand, type ProductEvent, type ProductState } from './decider/state.ts';

export function productAggregate(topics: Topics): AggregateDefinition<ProductState, ProductCommand, ProductEvent> {
  return {
    name: 'product',
    decider: productDecider,
    commands: topics.productCommands,
    events: topics.productEvents,
    versionOfState: (state) => state.version,
    versionOfEvent: (event) => ('version' in event.data ? event.data.version : undefined),
    uniqueKeys: claimedSkus,
  };
}
