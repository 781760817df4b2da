// GET /api/v1/inventory/{variantId}/events: a variant's stock as server-sent
// events (`stock`), a snapshot of its levels each time they change, for as
// long as the client stays. Snapshots are read from the stock read model after
// the event is applied; several events applied in one batch may arrive as one
// snapshot (the ids, the variant's versions, then skip), which a snapshot
// stream can afford. A variant retired from the catalogue gets a last event,
// `retired`, and the stream ends.
import { Type, type Static } from '@sinclair/typebox';
import { notFound } from '../../platform/http/errors.ts';
import type { LiveHub, LiveUpdate } from '../../platform/http/live-updates.ts';
import { streamRoute, type StreamRoute } from '../../platform/http/stream-route.ts';
import type { ProjectedEvent } from '../../platform/projections/projection.ts';
import type { ProjectionRunner } from '../../platform/projections/runner.ts';
import type { TopicDescriptor } from '../../platform/topics.ts';
import { STOCK } from '../projections/stock.ts';
import { stockQueries, type StockRow } from './queries.ts';

export const StockEvent = Type.Object({
  productVariantId: Type.String(),
  quantity: Type.Integer({ description: 'units on hand' }),
  reservedQuantity: Type.Integer(),
  availableQuantity: Type.Integer(),
  status: Type.String(),
  version: Type.Integer({ description: "the variant's stock version, also the event's id" }),
});
export const RetiredEvent = Type.Object({ productVariantId: Type.String(), version: Type.Integer() });
export type StockEvent = Static<typeof StockEvent> | Static<typeof RetiredEvent>;

function snapshot(row: StockRow): LiveUpdate<StockEvent> {
  return {
    id: row.version,
    event: 'stock',
    data: { productVariantId: row.variant_id, quantity: row.quantity, reservedQuantity: row.reserved, availableQuantity: row.available, status: row.status, version: row.version },
  };
}

export interface StockLive {
  stream(read: ProjectionRunner): StreamRoute;
  /** For createApi's onEvent: the variant's stock, once an event of it is applied, to whoever watches it. */
  onEvent(event: ProjectedEvent, read: ProjectionRunner): void;
}

export function stockLive(inventoryEvents: TopicDescriptor, hub: LiveHub<StockEvent>): StockLive {
  return {
    stream: (read) =>
      streamRoute({
        path: '/api/v1/inventory/:variantId/events',
        scope: 'inventory:read',
        summary: "A variant's stock as server-sent events: a snapshot now and at every change; Last-Event-ID resumes",
        tags: ['stock'],
        params: Type.Object({ variantId: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }) }),
        events: { stock: StockEvent, retired: RetiredEvent },
        responses: { 404: 'unknown variant' },
        open: ({ params, lastEventId, res }) => {
          const row = stockQueries.one(read.db(STOCK), params.variantId);
          if (!row) throw notFound(`stock for variant ${params.variantId}`);
          hub.open(res, { key: row.variant_id, after: lastEventId, current: snapshot(row) });
        },
      }),
    onEvent(event, read) {
      if (event.topic !== inventoryEvents.baseName) return;
      const { productVariantId, version } = event.data;
      if (typeof productVariantId !== 'string' || !hub.watching(productVariantId)) return;
      const row = stockQueries.one(read.db(STOCK), productVariantId);
      if (row) hub.publish(productVariantId, snapshot(row));
      // Retired: the query no longer finds it (GET answers 404 now).
      else if (typeof version === 'number') hub.publish(productVariantId, { id: version, event: 'retired', data: { productVariantId, version }, last: true });
    },
  };
}
