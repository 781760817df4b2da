// Inventory's HTTP API (docs/contract.md), as declarations. Writes append a
// command keyed by variant and answer from its outcome; reads come from the
// read models; the reorder arithmetic is reorder.ts's.
import { Type } from '@sinclair/typebox';
import { answerCommand, pendingAnswer } from '../../platform/http/command-answer.ts';
import type { CommandRequests } from '../../platform/http/command-request.ts';
import { conflict, notFound } from '../../platform/http/errors.ts';
import { route, type Route, type RouteResponse } from '../../platform/http/route.ts';
import type { ProjectionRunner } from '../../platform/projections/runner.ts';
import type { Topics } from '../../topics.ts';
import { ALLOCATIONS } from '../projections/allocations.ts';
import { STOCK } from '../projections/stock.ts';
import { reservationQueries, reservationView, stockQueries, stockView } from './queries.ts';
import { INVENTORY_REJECTIONS } from './rejections.ts';
import { AdjustBody, Id, ReleaseBody, ReserveBody, VariantPath } from './request-bodies.ts';
import { inventoryReportRoutes } from './report-routes.ts';

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
      body: {
        reservationId,
        status: 'RESERVED',
        quantity: row.units,
        availableQuantity: row.available_at_decision,
        expiresAt: row.expires_at === null ? null : new Date(row.expires_at).toISOString(),
      },
    };
  };

  return [
    route({
      method: 'get',
      path: '/api/v1/inventory/:variantId',
      scope: 'inventory:read',
      summary: 'Stock of one variant',
      tags: ['stock'],
      params: VariantPath,
      responses: { 200: 'the stock view', 404: 'unknown variant' },
      handle: ({ params }) => ({ status: 200, body: stockView(requireVariant(params.variantId)) }),
    }),
    route({
      method: 'get',
      path: '/api/v1/inventory',
      scope: 'inventory:read',
      summary: 'Stock of several variants',
      tags: ['stock'],
      query: Type.Object({ productVariantIds: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}(,[A-Za-z0-9._:-]{1,128}){0,99}$', description: 'comma-separated, at most 100' }) }),
      responses: { 200: 'the stock views found, in the order asked', 400: 'bad list' },
      handle: ({ query }) => {
        const ids = query.productVariantIds.split(',');
        const rows = new Map(stockQueries.many(stock(), ids).map((r) => [r.variant_id, r]));
        return { status: 200, body: ids.flatMap((id) => (rows.has(id) ? [stockView(rows.get(id)!)] : [])) };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/inventory/by-product/:productId',
      scope: 'inventory:read',
      summary: 'Stock of every variant of a product (seed 003)',
      tags: ['stock'],
      params: Type.Object({ productId: Id }),
      responses: { 200: 'the stock view of each of its variants, by SKU', 404: 'no stock record for any variant of that product' },
      handle: ({ params }) => {
        const rows = stockQueries.byProduct(stock(), params.productId);
        if (rows.length === 0) throw notFound(`stock for product ${params.productId}`);
        return { status: 200, body: { productId: params.productId, variants: rows.map(stockView) } };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/inventory/:variantId/reserve',
      scope: 'inventory:reserve',
      summary: 'Reserve units of a variant',
      tags: ['reservations'],
      params: VariantPath,
      body: ReserveBody,
      responses: {
        200: 'reserved (or the first outcome of this reservationId)',
        202: 'accepted, outcome pending: poll the Location',
        400: 'invalid request',
        404: 'unknown variant',
        409: 'insufficient stock, or the variant no longer sells',
      },
      handle: async ({ params, body, correlationId }) => {
        requireVariant(params.variantId);
        const reservationId = body.reservationId ?? crypto.randomUUID();
        const known = reservationAnswer(params.variantId, reservationId);
        if (known) return known;
        const outcome = await commands.send(
          topics.inventoryCommands,
          {
            type: 'ReserveStock',
            data: { productVariantId: params.variantId, reservationId, orderId: body.orderId ?? null, quantity: body.quantity, ttlSeconds: body.ttlSeconds ?? null },
          },
          correlationId,
          [ALLOCATIONS],
        );
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
      method: 'get',
      path: '/api/v1/inventory/:variantId/reservations/:reservationId',
      scope: 'inventory:read',
      summary: 'One reservation (where a pending reserve can be polled)',
      tags: ['reservations'],
      params: Type.Object({ variantId: Id, reservationId: Id }),
      responses: { 200: 'the reservation', 404: 'not (yet) known' },
      handle: ({ params }) => {
        const row = reservationQueries.one(allocations(), params.variantId, params.reservationId);
        if (!row) throw notFound(`reservation ${params.reservationId} of variant ${params.variantId}`);
        return { status: 200, body: reservationView(row) };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/inventory/:variantId/release',
      scope: 'inventory:release',
      summary: 'Release a reservation',
      tags: ['reservations'],
      params: VariantPath,
      body: ReleaseBody,
      responses: {
        200: 'released (or already closed)',
        202: 'accepted, outcome pending',
        400: 'invalid request',
        404: 'unknown variant or reservation',
        409: 'the reservation was rejected, so nothing is held',
      },
      handle: async ({ params, body, correlationId }) => {
        requireVariant(params.variantId);
        const outcome = await commands.send(
          topics.inventoryCommands,
          {
            type: 'ReleaseReservation',
            data: { productVariantId: params.variantId, reservationId: body.reservationId, reason: body.reason ?? null },
          },
          correlationId,
          [ALLOCATIONS, STOCK],
        );
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
      method: 'post',
      path: '/api/v1/inventory/adjust-stock',
      scope: { anyOf: ['inventory:sell', 'inventory:admin'], pick: ({ body }) => (body.changeType === 'SALE' ? 'inventory:sell' : 'inventory:admin') },
      summary: 'Change units on hand: restock, sale, return, adjustment, damage',
      tags: ['stock'],
      body: AdjustBody,
      responses: {
        200: 'the stock view after the change',
        202: 'accepted, outcome pending',
        400: 'invalid request',
        404: 'unknown variant or reservation',
        409: 'the change would oversell or the reservation is closed',
      },
      handle: async ({ body, correlationId }) => {
        requireVariant(body.productVariantId);
        const outcome = await commands.send(
          topics.inventoryCommands,
          {
            type: 'AdjustStock',
            data: {
              productVariantId: body.productVariantId,
              changeType: body.changeType,
              quantity: body.quantity,
              orderId: body.orderId ?? null,
              reservationId: body.reservationId ?? null,
              reason: body.reason ?? null,
            },
          },
          correlationId,
          [STOCK],
        );
        return answerCommand(outcome, {
          rejections: INVENTORY_REJECTIONS,
          location: `/api/v1/inventory/${body.productVariantId}`,
          pending: { productVariantId: body.productVariantId },
          decided: () => ({ status: 200, body: stockView(requireVariant(body.productVariantId)) }),
        });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/allocations/by-order/:orderId',
      scope: 'inventory:read',
      summary: 'Reservations held for an order',
      tags: ['reservations'],
      params: Type.Object({ orderId: Id }),
      responses: { 200: "the order's reservations (possibly none)" },
      handle: ({ params }) => ({ status: 200, body: { orderId: params.orderId, reservations: reservationQueries.byOrder(allocations(), params.orderId).map(reservationView) } }),
    }),
    ...inventoryReportRoutes({ read, requireVariant }),
  ];
}
