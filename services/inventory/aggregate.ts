// Inventory's write side: the variant decider on inventory.commands/events,
// with a timer that expires reservations nobody released, answering orders and
// products on their command topics (answers.ts).
import type { AggregateDefinition } from '../platform/processing/command-processor.ts';
import type { Topics } from '../topics.ts';
import { inventoryDecider } from './decider/decider.ts';
import { answers } from './answers.ts';
import { nextExpiry, type InventoryCommand, type InventoryEvent, type VariantStock } from './decider/state.ts';

export function inventoryAggregate(topics: Topics): AggregateDefinition<VariantStock, InventoryCommand, InventoryEvent> {
  return {
    name: 'inventory',
    decider: inventoryDecider,
    commands: topics.inventoryCommands,
    events: topics.inventoryEvents,
    versionOfState: (state) => state.version,
    versionOfEvent: (event) => ('version' in event.data ? event.data.version : undefined),
    react: answers(topics),
    reactsTo: [topics.orderCommands, topics.productCommands],
    schedule: {
      dueAt: nextExpiry,
      command: (productVariantId, asOf) => ({ type: 'ExpireReservations', data: { productVariantId, asOf } }),
    },
  };
}
