// Orders' write side: the order decider on order.commands/events; its events
// drive the checkout saga's commands to inventory, and a timer enforces the
// saga's bound and the payment window.
import type { AggregateDefinition } from '../platform/processing/command-processor.ts';
import type { Topics } from '../topics.ts';
import { createOrderDecider } from './decider/decider.ts';
import { orderReactions } from './decider/reactions.ts';
import { orderDueAt, type OrderCommand, type OrderEvent, type OrderSettings, type OrderState } from './decider/state.ts';

export function orderAggregate(topics: Topics, settings: OrderSettings): AggregateDefinition<OrderState, OrderCommand, OrderEvent> {
  return {
    name: 'order',
    decider: createOrderDecider(settings),
    commands: topics.orderCommands,
    events: topics.orderEvents,
    versionOfState: (state) => state.version,
    versionOfEvent: (event) => ('version' in event.data ? event.data.version : undefined),
    react: orderReactions(topics),
    reactsTo: [topics.inventoryCommands],
    schedule: {
      dueAt: orderDueAt,
      command: (orderId, asOf) => ({ type: 'TimeOutOrder', data: { orderId, asOf } }),
    },
  };
}
