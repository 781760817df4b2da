// The state of one order and its checkout saga.
import type { OrderCommands } from '../../../schemas/generated/order.commands.ts';
import type { OrderEvents, OrderLine } from '../../../schemas/generated/order.events.ts';
import type { OutcomeRecord, TopicMessage } from '../../platform/topics.ts';

export type OrderEvent = TopicMessage<Omit<OrderEvents, OutcomeRecord>>;
export type OrderCommand = TopicMessage<OrderCommands>;
export type OrderStatus = 'NEW' | 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED' | 'PAID' | 'RETURNED';

/** A line as OrderCreated carries it, and what became of it since. */
export interface OrderLineState extends OrderLine {
  /** Inventory's answer for this line, once it came. */
  outcome?: 'RESERVED' | 'REJECTED';
  available?: number;
  returned: number;
}

export interface OrderState {
  orderId: string;
  customerId: string;
  currency: string;
  status: OrderStatus;
  lines: readonly OrderLineState[];
  totalMinor: number;
  requestHash: string;
  sagaDeadline: number;
  paymentDeadline: number;
  reviewReasons: readonly string[];
  version: number;
}

export const initialOrder: OrderState = {
  orderId: '',
  customerId: '',
  currency: '',
  status: 'NEW',
  lines: [],
  totalMinor: 0,
  requestHash: '',
  sagaDeadline: 0,
  paymentDeadline: 0,
  reviewReasons: [],
  version: 0,
};

export interface OrderSettings {
  /** How long inventory has to answer every line before the saga compensates. */
  sagaTimeoutMs: number;
  /** How long a confirmed order may wait for payment before it is cancelled. */
  paymentWindowMs: number;
}

/** Reservations outlive the payment deadline by this much, so a paid order's sale finds them. */
export const RESERVATION_MARGIN_MS = 60_000;

/** When the order's timer must act: the saga's bound while pending, the payment window once confirmed. */
export function orderDueAt(state: OrderState): number | undefined {
  if (state.status === 'PENDING') return state.sagaDeadline;
  if (state.status === 'CONFIRMED') return state.paymentDeadline;
  return undefined;
}
