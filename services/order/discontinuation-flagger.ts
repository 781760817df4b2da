// A variant discontinued while orders for it are open (pending or confirmed,
// not yet paid) flags those orders for review. Open orders are found in the
// order-items read model, after it has caught up with every order event
// written before the discontinuation was seen, so no order placed earlier is
// missed. (An order placed later is checked against the product service's
// current status when it is placed.)
import type { ProductEvents } from '../../schemas/generated/product.events.ts';
import type { Outbound } from '../platform/processing/command-processor.ts';
import { perDatabase } from '../platform/projections/statements.ts';
import type { ProjectionRunner } from '../platform/projections/runner.ts';
import type { TopicMessage } from '../platform/topics.ts';
import type { Topics } from '../topics.ts';
import { ORDER_ITEMS } from './projections/order-items.ts';

const openOrders = perDatabase((db) =>
  db.prepare(`
    SELECT DISTINCT i.order_id FROM order_items i JOIN order_state s USING (order_id)
    WHERE i.variant_id = ? AND s.status IN ('PENDING', 'CONFIRMED') ORDER BY i.order_id`),
);

export function discontinuationFlagger(topics: Topics, read: ProjectionRunner) {
  return async (event: TopicMessage<ProductEvents>): Promise<Outbound[]> => {
    if (event.type !== 'ProductVariantUpdated' || event.data.status !== 'DISCONTINUED') return [];
    const { variantId, sku } = event.data;
    await read.waitForLogEnd(topics.orderEvents, 10_000);
    const orders = openOrders(read.db(ORDER_ITEMS)).all(variantId) as { order_id: string }[];
    const reason = `variant ${variantId} (${sku}) was discontinued while the order was open`;
    return orders.map((o) => ({ topic: topics.orderCommands, message: { type: 'FlagOrderForReview', data: { orderId: o.order_id, reasons: [reason] } } }));
  };
}
