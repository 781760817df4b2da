// Inventory's HTTP API (CONTRACT.md). Writes append a command keyed by variant
// and answer from its outcome; reads come from the read models.
import { Type } from '@sinclair/typebox';
import { answerCommand, pendingAnswer } from '../../platform/http/command-answer.ts';
import type { CommandRequests } from '../../platform/http/command-request.ts';
import { conflict, notFound } from '../../platform/http/errors.ts';
import { route, type Route, type RouteResponse } from '../../platform/http/route.ts';
import type { ProjectionRunner } from '../../platform/projections/runner.ts';
import type { Topics } from '../../topics.ts';
import { ALLOCATIONS } from '../projections/allocations.ts';
import { MOVEMENTS } from '../projections/movements.ts';
import { STOCK } from '../projections/stock.ts';
import { VALUATION } from '../projections/valuation.ts';
import { blockedRetirementView, inventoryValue, movementQueries, reservationQueries, reservationView, stockQueries, stockView } from './queries.ts';
import { INVENTORY_REJECTIONS } from './rejections.ts';

const Id = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$', description: 'identifier (letters, digits, . _ : -)' });
const VariantPath = Type.Object({ variantId: Id });
const CHANGE_TYPES = ['RESTOCK', 'SALE', 'RETURN', 'ADJUSTMENT', 'DAMAGE'] as const;

const ReserveBody = Type.Object(
  {
    quantity: Type.Integer({ minimum: 1, maximum: 100_000 }),
    orderId: Type.Optional(Id),
    reservationId: Type.Optional(Id),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 })),
  },
  { additionalProperties: false },
);
const ReleaseBody = Type.Object({ reservationId: Id, reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });
const AdjustBody = Type.Object(
  {
    productVariantId: Id,
    changeType: Type.Union(CHANGE_TYPES.map((c) => Type.Literal(c))),
    quantity: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 }),
    orderId: Type.Optional(Id),
    reservationId: Type.Optional(Id),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export interface InventoryRouteDeps {
  topics: Topics;
  read: ProjectionRunner;
  commands: CommandRequests;
}

/** Where a reservation can be polled (GET .../reservations/:reservationId). */
const reservationLocation = (variantId: string, reservationId: string) => `/api/v1/inventory/${variantId}/reservations/${reservationId}`;

export function inventoryRoutes({ topics, read, commands }: InventoryRouteDeps): Route[] {
  const stock = () => read.db(STOCK);
  const allocations = () => read.db(ALLOCATIONS);
  const requireVariant = (variantId: string) => {
    const row = stockQueries.one(stock(), variantId);
    if (!row) throw notFound(`variant ${variantId}`);
    return row;
  };

  /**
   * A reservation's decision, answered from the allocations read model: the
   * same body the first time and every time its reservationId comes again.
   */
  const reservationAnswer = (variantId: string, reservationId: string): RouteResponse | undefined => {
    const row = reservationQueries.one(allocations(), variantId, reservationId);
    if (!row) return undefined;
    if (row.status === 'REJECTED') {
      const reason = row.rejection_reason ?? 'INSUFFICIENT_STOCK';
      const code = reason === 'INSUFFICIENT_STOCK' ? 'INSUFFICIENT_STOCK' : `VARIANT_${reason}`;
      const why = reason === 'INSUFFICIENT_STOCK' ? `only ${row.available_at_decision} available` : reason.toLowerCase();
      throw conflict(code, `cannot reserve ${row.requested} of variant ${variantId}: ${why}`, { reservationId, availableQuantity: row.available_at_decision });
    }
    return {
      status: 200,
      body: { reservationId, status: 'RESERVED', quantity: row.units, availableQuantity: row.available_at_decision, expiresAt: row.expires_at === null ? null : new Date(row.expires_at).toISOString() },
    };
  };

  return [
    route({
      method: 'get', path: '/api/v1/inventory/:variantId', scope: 'inventory:read', summary: 'Stock of one variant', tags: ['stock'], params: VariantPath,
      responses: { 200: 'the stock view', 404: 'unknown variant' },
      handle: ({ params }) => ({ status: 200, body: stockView(requireVariant(params.variantId)) }),
    }),
    route({
      method: 'get', path: '/api/v1/inventory', scope: 'inventory:read', summary: 'Stock of several variants', tags: ['stock'],
      query: Type.Object({ productVariantIds: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}(,[A-Za-z0-9._:-]{1,128}){0,99}$', description: 'comma-separated, at most 100' }) }),
      responses: { 200: 'the stock views found, in the order asked', 400: 'bad list' },
      handle: ({ query }) => {
        const ids = query.productVariantIds.split(',');
        const rows = new Map(stockQueries.many(stock(), ids).map((r) => [r.variant_id, r]));
        return { status: 200, body: ids.flatMap((id) => (rows.has(id) ? [stockView(rows.get(id)!)] : [])) };
      },
    }),
    route({
      method: 'get', path: '/api/v1/inventory/by-product/:productId', scope: 'inventory:read', summary: 'Stock of every variant of a product (seed 003)', tags: ['stock'],
      params: Type.Object({ productId: Id }),
      responses: { 200: 'the stock view of each of its variants, by SKU', 404: 'no stock record for any variant of that product' },
      handle: ({ params }) => {
        const rows = stockQueries.byProduct(stock(), params.productId);
        if (rows.length === 0) throw notFound(`stock for product ${params.productId}`);
        return { status: 200, body: { productId: params.productId, variants: rows.map(stockView) } };
      },
    }),
    route({
      method: 'post', path: '/api/v1/inventory/:variantId/reserve', scope: 'inventory:reserve', summary: 'Reserve units of a variant', tags: ['reservations'],
      params: VariantPath, body: ReserveBody,
      responses: { 200: 'reserved (or the first outcome of this reservationId)', 202: 'accepted, outcome pending: poll the Location', 400: 'invalid request', 404: 'unknown variant', 409: 'insufficient stock, or the variant no longer sells' },
      handle: async ({ params, body, correlationId }) => {
        requireVariant(params.variantId);
        const reservationId = body.reservationId ?? crypto.randomUUID();
        const known = reservationAnswer(params.variantId, reservationId);
        if (known) return known;
        const outcome = await commands.send(topics.inventoryCommands, {
          type: 'ReserveStock',
          data: { productVariantId: params.variantId, reservationId, orderId: body.orderId ?? null, quantity: body.quantity, ttlSeconds: body.ttlSeconds ?? null },
        }, correlationId, [ALLOCATIONS]);
        const location = reservationLocation(params.variantId, reservationId);
        return answerCommand(outcome, {
          rejections: INVENTORY_REJECTIONS,
          location,
          pending: { reservationId },
          decided: () => reservationAnswer(params.variantId, reservationId) ?? pendingAnswer(outcome.commandId, location, { reservationId }),
        });
      },
    }),
    route({
      method: 'get', path: '/api/v1/inventory/:variantId/reservations/:reservationId', scope: 'inventory:read', summary: 'One reservation (where a pending reserve can be polled)', tags: ['reservations'],
      params: Type.Object({ variantId: Id, reservationId: Id }),
      responses: { 200: 'the reservation', 404: 'not (yet) known' },
      handle: ({ params }) => {
        const row = reservationQueries.one(allocations(), params.variantId, params.reservationId);
        if (!row) throw notFound(`reservation ${params.reservationId} of variant ${params.variantId}`);
        return { status: 200, body: reservationView(row) };
      },
    }),
    route({
      method: 'post', path: '/api/v1/inventory/:variantId/release', scope: 'inventory:release', summary: 'Release a reservation', tags: ['reservations'],
      params: VariantPath, body: ReleaseBody,
      responses: { 200: 'released (or already closed)', 202: 'accepted, outcome pending', 400: 'invalid request', 404: 'unknown variant or reservation', 409: 'the reservation was rejected, so nothing is held' },
      handle: async ({ params, body, correlationId }) => {
        requireVariant(params.variantId);
        const outcome = await commands.send(topics.inventoryCommands, {
          type: 'ReleaseReservation', data: { productVariantId: params.variantId, reservationId: body.reservationId, reason: body.reason ?? null },
        }, correlationId, [ALLOCATIONS, STOCK]);
        return answerCommand(outcome, {
          rejections: INVENTORY_REJECTIONS,
          location: reservationLocation(params.variantId, body.reservationId),
          pending: { reservationId: body.reservationId },
          decided: () => {
            const row = reservationQueries.one(allocations(), params.variantId, body.reservationId);
            const current = stockQueries.one(stock(), params.variantId);
            return { status: 200, body: { reservationId: body.reservationId, status: row?.status ?? 'RELEASED', availableQuantity: current?.available ?? null } };
          },
        });
      },
    }),
    route({
      method: 'post', path: '/api/v1/inventory/adjust-stock', scope: { anyOf: ['inventory:sell', 'inventory:admin'], pick: ({ body }) => (body.changeType === 'SALE' ? 'inventory:sell' : 'inventory:admin') }, summary: 'Change units on hand: restock, sale, return, adjustment, damage', tags: ['stock'],
      body: AdjustBody,
      responses: { 200: 'the stock view after the change', 202: 'accepted, outcome pending', 400: 'invalid request', 404: 'unknown variant or reservation', 409: 'the change would oversell or the reservation is closed' },
      handle: async ({ body, correlationId }) => {
        requireVariant(body.productVariantId);
        const outcome = await commands.send(topics.inventoryCommands, {
          type: 'AdjustStock',
          data: { productVariantId: body.productVariantId, changeType: body.changeType, quantity: body.quantity, orderId: body.orderId ?? null, reservationId: body.reservationId ?? null, reason: body.reason ?? null },
        }, correlationId, [STOCK]);
        return answerCommand(outcome, {
          rejections: INVENTORY_REJECTIONS,
          location: `/api/v1/inventory/${body.productVariantId}`,
          pending: { productVariantId: body.productVariantId },
          decided: () => ({ status: 200, body: stockView(requireVariant(body.productVariantId)) }),
        });
      },
    }),
    route({
      method: 'get', path: '/api/v1/allocations/by-order/:orderId', scope: 'inventory:read', summary: 'Reservations held for an order', tags: ['reservations'],
      params: Type.Object({ orderId: Id }),
      responses: { 200: 'the order\'s reservations (possibly none)' },
      handle: ({ params }) => ({ status: 200, body: { orderId: params.orderId, reservations: reservationQueries.byOrder(allocations(), params.orderId).map(reservationView) } }),
    }),
    route({
      method: 'get', path: '/api/v1/reports/low-stock', scope: 'inventory:read', summary: 'Variants at or under their low-stock threshold', tags: ['reports'],
      query: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }),
      responses: { 200: 'low and out-of-stock variants, least available first' },
      handle: ({ query }) => ({ status: 200, body: stockQueries.low(stock(), Math.min(Number(query.limit ?? 100), 1000)).map(stockView) }),
    }),
    route({
      method: 'get', path: '/api/v1/reports/blocked-retirements', scope: 'inventory:read', summary: 'Variants deleted from the catalogue with stock on hand, waiting for an operator (seed 001)', tags: ['reports'],
      query: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }),
      responses: { 200: 'blocked retirements, longest waiting first' },
      handle: ({ query }) => ({ status: 200, body: stockQueries.blockedRetirements(stock(), Math.min(Number(query.limit ?? 100), 1000)).map(blockedRetirementView) }),
    }),
    route({
      method: 'get', path: '/api/v1/reports/stock-movements', scope: 'inventory:read', summary: 'Changes of units on hand, newest first', tags: ['reports'],
      query: Type.Object({ productVariantId: Type.Optional(Id), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }),
      responses: { 200: 'movements' },
      handle: ({ query }) => ({ status: 200, body: movementQueries.list(read.db(MOVEMENTS), query.productVariantId, Math.min(Number(query.limit ?? 100), 1000)) }),
    }),
    route({
      method: 'get', path: '/api/v1/reports/inventory-value', scope: 'inventory:read', summary: 'Value of the stock on hand at current catalogue prices', tags: ['reports'],
      responses: { 200: 'totals per currency and per variant' },
      handle: () => ({ status: 200, body: inventoryValue(read.db(VALUATION)) }),
    }),
    route({
      method: 'get', path: '/api/v1/inventory/:variantId/reorder-suggestion', scope: 'inventory:read', summary: 'How many units to reorder, from recent sales velocity', tags: ['reports'],
      params: VariantPath,
      query: Type.Object({
        windowDays: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
        leadTimeDays: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
        coverDays: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
      }),
      responses: { 200: 'the suggestion and how it was reached', 404: 'unknown variant' },
      handle: ({ params, query }) => {
        const row = requireVariant(params.variantId);
        const windowDays = Number(query.windowDays ?? 14);
        const leadTimeDays = Number(query.leadTimeDays ?? 7);
        const coverDays = Number(query.coverDays ?? 14);
        const since = Date.now() - windowDays * 86_400_000;
        const sold = movementQueries.unitsSoldSince(read.db(MOVEMENTS), params.variantId, since);
        const velocity = sold / windowDays;
        // Enough to cover the lead time and the cover period, plus the safety
        // threshold, less what is already free to sell.
        const target = Math.ceil(velocity * (leadTimeDays + coverDays)) + row.low_stock_threshold;
        const suggested = Math.max(0, target - row.available);
        return {
          status: 200,
          body: {
            productVariantId: params.variantId, sku: row.sku, availableQuantity: row.available, lowStockThreshold: row.low_stock_threshold,
            unitsSold: sold, windowDays, dailySalesVelocity: Number(velocity.toFixed(3)), leadTimeDays, coverDays, suggestedQuantity: suggested,
          },
        };
      },
    }),
  ];
}
