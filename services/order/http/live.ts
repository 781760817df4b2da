// GET /api/v1/orders/{id}/events: an order's status changes as server-sent
// events (`status`), from the status it has when the client connects until it
// settles, when the stream ends.
//
// Settled: REJECTED and CANCELLED (nothing can follow), PAID (the checkout is
// complete; only a return may follow, days later, which a client that cares
// about learns by connecting again), RETURNED. CONFIRMED is not: it waits for
// payment, or is cancelled when the payment window elapses.
import { Type, type Static } from '@sinclair/typebox';
import { notFound } from '../../platform/http/errors.ts';
import type { LiveHub, LiveUpdate } from '../../platform/http/live-updates.ts';
import { streamRoute, type StreamRoute } from '../../platform/http/stream-route.ts';
import type { ProjectedEvent } from '../../platform/projections/projection.ts';
import type { ProjectionRunner } from '../../platform/projections/runner.ts';
import type { TopicDescriptor } from '../../platform/topics.ts';
import type { OrderStatus } from '../decider/state.ts';
import { ORDERS } from '../projections/orders.ts';
import { orderQueries } from './queries.ts';

export const OrderStatusEvent = Type.Object({
  orderId: Type.String(),
  type: Type.String({ description: "the event that changed the status (OrderCreated, OrderConfirmed, ...); 'Snapshot' for the status when the client connected" }),
  status: Type.String(),
  version: Type.Integer({ description: "the order's version, also the event's id" }),
  settled: Type.Boolean({ description: 'true on the last event: the stream ends' }),
  reason: Type.Optional(Type.String({ description: 'why the order was rejected or cancelled' })),
});
export type OrderStatusEvent = Static<typeof OrderStatusEvent>;

/** The status each status-changing event leaves an order in (others, such as a line's outcome, are not sent). */
const STATUS_AFTER: Readonly<Record<string, OrderStatus>> = {
  OrderCreated: 'PENDING',
  OrderConfirmed: 'CONFIRMED',
  OrderRejected: 'REJECTED',
  OrderCancelled: 'CANCELLED',
  OrderPaid: 'PAID',
  OrderReturned: 'RETURNED',
};
const SETTLED: ReadonlySet<string> = new Set<OrderStatus>(['REJECTED', 'CANCELLED', 'PAID', 'RETURNED']);

function update(data: Omit<OrderStatusEvent, 'settled'>): LiveUpdate<OrderStatusEvent> {
  const settled = SETTLED.has(data.status);
  return { id: data.version, event: 'status', data: { ...data, settled }, last: settled };
}

export interface OrderLive {
  stream(read: ProjectionRunner): StreamRoute;
  /** For createApi's onEvent: an order event, once applied, to whoever watches the order. */
  onEvent(event: ProjectedEvent): void;
}

export function orderLive(orderEvents: TopicDescriptor, hub: LiveHub<OrderStatusEvent>): OrderLive {
  return {
    stream: (read) =>
      streamRoute({
        path: '/api/v1/orders/:id/events',
        scope: 'orders:read',
        summary: "An order's status changes as server-sent events, until it settles (REJECTED, CANCELLED, PAID or RETURNED); Last-Event-ID resumes",
        tags: ['orders'],
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }) }),
        events: { status: OrderStatusEvent },
        responses: { 204: 'the order has settled and the client had its last event: nothing more will come', 404: 'unknown order' },
        open: ({ params, lastEventId, res }) => {
          const order = orderQueries.order(read.db(ORDERS), params.id);
          if (!order) throw notFound(`order ${params.id}`);
          const current = update({ orderId: order.order_id, type: 'Snapshot', status: order.status, version: order.version, ...(order.reason ? { reason: order.reason } : {}) });
          hub.open(res, { key: order.order_id, after: lastEventId, current });
        },
      }),
    onEvent(event) {
      if (event.topic !== orderEvents.baseName) return;
      const { orderId, version, reason } = event.data;
      const status = STATUS_AFTER[event.type];
      if (typeof orderId !== 'string' || typeof version !== 'number' || !status || !hub.watching(orderId)) return;
      hub.publish(orderId, update({ orderId, type: event.type, status, version, ...(typeof reason === 'string' ? { reason } : {}) }));
    },
  };
}
