// Inventory's reports (docs/contract.md): low stock, blocked retirements, stock
// movements, stock value and reorder suggestions, read from the read models.
import { Type } from '@sinclair/typebox';
import { route, type Route } from '../../platform/http/route.ts';
import type { ProjectionRunner } from '../../platform/projections/runner.ts';
import { MOVEMENTS } from '../projections/movements.ts';
import { STOCK } from '../projections/stock.ts';
import { VALUATION } from '../projections/valuation.ts';
import { suggestReorder } from '../reorder.ts';
import { blockedRetirementView, inventoryValue, movementQueries, stockQueries, stockView } from './queries.ts';
import { Id, VariantPath } from './request-bodies.ts';

export function inventoryReportRoutes({
  read,
  requireVariant,
}: {
  read: ProjectionRunner;
  requireVariant: (variantId: string) => { sku: string; available: number; low_stock_threshold: number };
}): Route[] {
  const stock = () => read.db(STOCK);
  return [
    route({
      method: 'get',
      path: '/api/v1/reports/low-stock',
      scope: 'inventory:read',
      summary: 'Variants at or under their low-stock threshold',
      tags: ['reports'],
      query: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }),
      responses: { 200: 'low and out-of-stock variants, least available first' },
      handle: ({ query }) => ({ status: 200, body: stockQueries.low(stock(), Math.min(Number(query.limit ?? 100), 1000)).map(stockView) }),
    }),
    route({
      method: 'get',
      path: '/api/v1/reports/blocked-retirements',
      scope: 'inventory:read',
      summary: 'Variants deleted from the catalogue with stock on hand, waiting for an operator (seed 001)',
      tags: ['reports'],
      query: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }),
      responses: { 200: 'blocked retirements, longest waiting first' },
      handle: ({ query }) => ({ status: 200, body: stockQueries.blockedRetirements(stock(), Math.min(Number(query.limit ?? 100), 1000)).map(blockedRetirementView) }),
    }),
    route({
      method: 'get',
      path: '/api/v1/reports/stock-movements',
      scope: 'inventory:read',
      summary: 'Changes of units on hand, newest first',
      tags: ['reports'],
      query: Type.Object({ productVariantId: Type.Optional(Id), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }),
      responses: { 200: 'movements' },
      handle: ({ query }) => ({ status: 200, body: movementQueries.list(read.db(MOVEMENTS), query.productVariantId, Math.min(Number(query.limit ?? 100), 1000)) }),
    }),
    route({
      method: 'get',
      path: '/api/v1/reports/inventory-value',
      scope: 'inventory:read',
      summary: 'Value of the stock on hand at current catalogue prices',
      tags: ['reports'],
      responses: { 200: 'totals per currency and per variant' },
      handle: () => ({ status: 200, body: inventoryValue(read.db(VALUATION)) }),
    }),
    route({
      method: 'get',
      path: '/api/v1/inventory/:variantId/reorder-suggestion',
      scope: 'inventory:read',
      summary: 'How many units to reorder, from recent sales velocity',
      tags: ['reports'],
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
        const { dailySalesVelocity, suggestedQuantity } = suggestReorder({
          unitsSold: sold,
          windowDays,
          leadTimeDays,
          coverDays,
          available: row.available,
          lowStockThreshold: row.low_stock_threshold,
        });
        return {
          status: 200,
          body: {
            productVariantId: params.variantId,
            sku: row.sku,
            availableQuantity: row.available,
            lowStockThreshold: row.low_stock_threshold,
            unitsSold: sold,
            windowDays,
            dailySalesVelocity,
            leadTimeDays,
            coverDays,
            suggestedQuantity,
          },
        };
      },
    }),
  ];
}
