// The order service's HTTP API (CONTRACT.md).
import { Type } from '@sinclair/typebox';
import type { Request } from 'express';
import type { OrderCommands } from '../../../schemas/generated/order.commands.ts';
import type { CommandRequests } from '../../platform/http/command-request.ts';
import { answerCommand } from '../../platform/http/command-answer.ts';
import { conflict, notFound } from '../../platform/http/errors.ts';
import { route, type Route, type RouteResponse } from '../../platform/http/route.ts';
import type { ProjectionRunner } from '../../platform/projections/runner.ts';
import type { TopicMessage } from '../../platform/topics.ts';
import type { Topics } from '../../topics.ts';
import { orderIdFor, placeOrderCommand, requestHashOf } from '../placement.ts';
import type { ProductDetails } from '../product-details.ts';
import type { SagaAdmission } from '../saga-admission.ts';
import { CATALOGUE_SNAPSHOT } from '../projections/catalogue-snapshot.ts';
import { ORDER_ITEMS } from '../projections/order-items.ts';
import { ORDERS } from '../projections/orders.ts';
import { itemView, orderQueries, orderView } from './queries.ts';
import { ORDER_REJECTIONS } from './rejections.ts';
import type { StatusWatchers } from './status-watchers.ts';

const Id = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' });
const OrderPath = Type.Object({ id: Id });
const STATUSES = ['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'PAID', 'RETURNED'];
const Item = Type.Object({ variantId: Id, quantity: Type.Integer({ minimum: 1, maximum: 1000 }) }, { additionalProperties: false });

/** Placing orders counts per end customer, so one storefront token is not capped as one caller. */
const customerKey = (body: unknown) =>
  typeof body === 'object' && body !== null && 'customerId' in body && typeof body.customerId === 'string' ? `customer ${body.customerId.slice(0, 128)}` : undefined;

/** An order's own actions (cancel, pay, return) count against that order's limit, not the storefront's. */
const byOrder = (req: Request) => (typeof req.params.id === 'string' ? `order ${req.params.id.slice(0, 128)}` : undefined);

/** What an order's answer reads (GET /api/v1/orders/{id} too): a write waits for both to hold its outcome. */
const ORDER_VIEW = [ORDERS, ORDER_ITEMS];

/** How long a long-poll waits for an order it does not know yet to appear. */
const UNKNOWN_ORDER_GRACE_MS = 5_000;

export interface OrderRouteDeps {
  topics: Topics;
  read: ProjectionRunner;
  commands: CommandRequests;
  watchers: StatusWatchers;
  productDetails: ProductDetails;
  sagas: SagaAdmission;
}

export function orderRoutes({ topics, read, commands, watchers, productDetails, sagas }: OrderRouteDeps): Route[] {
  const view = (id: string) => {
    const o = orderQueries.order(read.db(ORDERS), id);
    return o ? orderView(o, orderQueries.items(read.db(ORDER_ITEMS), id)) : undefined;
  };
  const requireOrder = (id: string) => {
    const o = view(id);
    if (!o) throw notFound(`order ${id}`);
    return o;
  };

  async function act(orderId: string, message: TopicMessage<OrderCommands>, correlationId: string): Promise<RouteResponse> {
    requireOrder(orderId);
    return answerCommand(await commands.send(topics.orderCommands, message, correlationId, ORDER_VIEW), {
      rejections: ORDER_REJECTIONS,
      location: `/api/v1/orders/${orderId}`,
      pending: { orderId },
      decided: () => ({ status: 200, body: requireOrder(orderId) }),
    });
  }

  return [
    route({
      method: 'post',
      path: '/api/v1/orders',
      scope: 'orders:write',
      summary: 'Place an order; send an Idempotency-Key header so that a retry returns the same order',
      tags: ['orders'],
      body: Type.Object({ customerId: Id, items: Type.Array(Item, { minItems: 1, maxItems: 50 }) }, { additionalProperties: false }),
      headers: Type.Object({ 'idempotency-key': Type.String({ pattern: '^[\\x21-\\x7e]{1,200}$', description: 'the same key (per customer) always names the same order' }) }),
      rateLimitKey: (req) => customerKey(req.body as unknown),
      responses: {
        200: 'the same Idempotency-Key and request again: the order as it stands',
        202: 'placed: the saga is reserving its lines; poll the Location',
        503: 'too many orders in progress: retry after the Retry-After seconds (nothing was placed)',
        400: 'invalid request or missing Idempotency-Key',
        409: 'the Idempotency-Key was used for another request',
        422: 'a line cannot be ordered (named)',
      },
      handle: async ({ body, headers, correlationId }) => {
        const request = { customerId: body.customerId, items: body.items, idempotencyKey: headers['idempotency-key'] };
        const orderId = orderIdFor(request.customerId, request.idempotencyKey);
        const location = `/api/v1/orders/${orderId}`;
        // The same key again: the order as it stands (the first answer was 202, placed).
        const asItStands = (): RouteResponse => ({ status: 200, headers: { location }, body: requireOrder(orderId) });
        const existing = orderQueries.order(read.db(ORDERS), orderId);
        if (existing) {
          if (existing.request_hash !== requestHashOf(request)) throw conflict('IDEMPOTENCY_CONFLICT', `Idempotency-Key ${request.idempotencyKey} was already used for a different order request`);
          return asItStands();
        }
        // Past the knee, refuse at once rather than queue (before the pricing round trip).
        commands.admit();
        sagas.admit();
        const variantIds = body.items.map((i) => i.variantId);
        const copy = orderQueries.snapshot(read.db(CATALOGUE_SNAPSHOT), variantIds);
        const latest = await productDetails.latest(variantIds, correlationId);
        const outcome = await commands.send(topics.orderCommands, { type: 'PlaceOrder', data: placeOrderCommand(request, copy, latest) }, correlationId, ORDER_VIEW);
        return answerCommand(outcome, {
          rejections: ORDER_REJECTIONS,
          location,
          pending: { orderId },
          rejectionMessage: (message) => message.replace(/^lines\[/, 'items['),
          decided: (decided) => {
            if (decided.status !== 'accepted') return asItStands();
            sagas.opened();
            return { status: 202, headers: { location }, body: { orderId, status: view(orderId)?.status ?? 'PENDING' } };
          },
        });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/orders/:id',
      scope: 'orders:read',
      summary: 'An order; waitFor (comma-separated statuses) long-polls up to timeoutMs',
      tags: ['orders'],
      params: OrderPath,
      query: Type.Object({
        waitFor: Type.Optional(Type.String({ pattern: `^(${STATUSES.join('|')})(,(${STATUSES.join('|')}))*$` })),
        timeoutMs: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
      }),
      responses: { 200: 'the order (in one of the statuses waited for, or as it stands at the timeout)', 404: 'unknown order (a long-poll first gives a new order 5s to appear)' },
      handle: async ({ params, query, req }) => {
        const wanted = query.waitFor?.split(',');
        const started = Date.now();
        const deadline = started + Math.min(Number(query.timeoutMs ?? 10_000), 30_000);
        // An order just placed may take a moment to reach the read model; one
        // that has not appeared by then is unknown, and the answer is 404.
        const appearBy = Math.min(deadline, started + UNKNOWN_ORDER_GRACE_MS);
        const gone = new AbortController();
        req.once('close', () => gone.abort());
        let order = view(params.id);
        while (wanted && !gone.signal.aborted && !(order && wanted.includes(order.status)) && Date.now() < (order ? deadline : appearBy)) {
          await watchers.changed(params.id, (order ? deadline : appearBy) - Date.now(), gone.signal);
          order = view(params.id);
        }
        if (!order) throw notFound(`order ${params.id}`);
        return { status: 200, body: order };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/orders/:id/items',
      scope: 'orders:read',
      summary: 'The lines of an order',
      tags: ['orders'],
      params: OrderPath,
      responses: { 200: 'the lines', 404: 'unknown order' },
      handle: ({ params }) => {
        requireOrder(params.id);
        return { status: 200, body: orderQueries.items(read.db(ORDER_ITEMS), params.id).map(itemView) };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/orders/:id/cancel',
      scope: 'orders:write',
      rateLimitKey: byOrder,
      summary: 'Cancel an order; its reservations are released',
      tags: ['orders'],
      params: OrderPath,
      body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })),
      responses: { 200: 'the order', 202: 'accepted, outcome pending', 404: 'unknown order', 409: 'the order can no longer be cancelled' },
      handle: ({ params, body, correlationId }) => act(params.id, { type: 'CancelOrder', data: { orderId: params.id, reason: body?.reason ?? null } }, correlationId),
    }),
    route({
      method: 'post',
      path: '/api/v1/orders/:id/pay',
      scope: 'orders:write',
      rateLimitKey: byOrder,
      summary: 'Record payment; reserved units become sales',
      tags: ['orders'],
      params: OrderPath,
      responses: { 200: 'the order', 202: 'accepted, outcome pending', 404: 'unknown order', 409: 'the order is not confirmed' },
      handle: ({ params, correlationId }) => act(params.id, { type: 'PayOrder', data: { orderId: params.id } }, correlationId),
    }),
    route({
      method: 'post',
      path: '/api/v1/orders/:id/return',
      scope: 'orders:write',
      rateLimitKey: byOrder,
      summary: 'Return units of a paid order; they are restocked',
      tags: ['orders'],
      params: OrderPath,
      body: Type.Object({ items: Type.Array(Item, { minItems: 1, maxItems: 50 }) }, { additionalProperties: false }),
      responses: { 200: 'the order', 202: 'accepted, outcome pending', 404: 'unknown order', 409: 'the order is not paid', 422: 'more returned than bought' },
      handle: ({ params, body, correlationId }) => act(params.id, { type: 'ReturnOrder', data: { orderId: params.id, items: body.items } }, correlationId),
    }),
  ];
}
