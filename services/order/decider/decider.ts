// The order decider: one per order, keyed by orderId.
import type { Decider } from '../../platform/decider.ts';
import { createDecide, type OrderRejection } from './decide.ts';
import { evolve } from './evolve.ts';
import { initialOrder, type OrderCommand, type OrderEvent, type OrderSettings, type OrderState } from './state.ts';

export function createOrderDecider(settings: OrderSettings): Decider<OrderState, OrderCommand, OrderEvent, OrderRejection> {
  return { initialState: initialOrder, decide: createDecide(settings), evolve };
}
