// Order items: every line with its reservation's outcome and what came back,
// and the order's status beside it, so open orders can be found by variant.
import type { Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../platform/topics.ts';

export const ORDER_ITEMS = 'order-items';

export function orderItemsProjection(topics: Topics): Projection {
  return {
    name: ORDER_ITEMS,
    version: 1,
    topics: [topics.orderEvents],
    migrate(db) {
      db.exec(`
        CREATE TABLE order_items (
          order_id TEXT NOT NULL, line INTEGER NOT NULL, variant_id TEXT NOT NULL, product_id TEXT NOT NULL, sku TEXT NOT NULL,
          quantity INTEGER NOT NULL, unit_price_minor INTEGER NOT NULL, currency TEXT NOT NULL, reservation_id TEXT NOT NULL,
          reservation_outcome TEXT, returned INTEGER NOT NULL DEFAULT 0, order_status TEXT NOT NULL, order_version INTEGER NOT NULL,
          PRIMARY KEY (order_id, line)
        );
        CREATE INDEX order_items_open_by_variant ON order_items (variant_id, order_status);
      `);
    },
    handler(db) {
      const version = db.prepare(`SELECT MAX(order_version) AS version FROM order_items WHERE order_id = ?`);
      const insert = db.prepare(`
        INSERT INTO order_items (order_id, line, variant_id, product_id, sku, quantity, unit_price_minor, currency, reservation_id, order_status, order_version)
        VALUES (@orderId, @line, @variantId, @productId, @sku, @quantity, @unitPriceMinor, @currency, @reservationId, 'PENDING', @version)
        ON CONFLICT DO NOTHING`);
      const outcome = db.prepare(`UPDATE order_items SET reservation_outcome = @outcome WHERE order_id = @orderId AND reservation_id = @reservationId`);
      const status = db.prepare(`UPDATE order_items SET order_status = @status WHERE order_id = @orderId`);
      const returned = db.prepare(`
        UPDATE order_items SET returned = returned + @quantity
        WHERE order_id = @orderId AND line = (SELECT line FROM order_items WHERE order_id = @orderId AND variant_id = @variantId AND returned < quantity ORDER BY line LIMIT 1)`);
      const bump = db.prepare(`UPDATE order_items SET order_version = @version WHERE order_id = @orderId`);
      const STATUS: Record<string, string> = { OrderConfirmed: 'CONFIRMED', OrderRejected: 'REJECTED', OrderCancelled: 'CANCELLED', OrderPaid: 'PAID', OrderReturned: 'RETURNED' };
      return (event) => {
        const d = event.data;
        const seen = (version.get(d.orderId) as { version: number | null }).version;
        if (event.type === 'OrderCreated') {
          if (seen !== null) return;
          (d.lines as Record<string, unknown>[]).forEach((l, line) => insert.run({ ...l, line, orderId: d.orderId, currency: d.currency, version: d.version }));
          return;
        }
        if (seen === null || seen >= Number(d.version)) return;
        if (event.type === 'OrderLineReservationRecorded') outcome.run(d);
        if (STATUS[event.type]) status.run({ orderId: d.orderId, status: STATUS[event.type] });
        if (event.type === 'OrderReturned') {
          for (const item of d.items as { variantId: string; quantity: number }[]) returned.run({ orderId: d.orderId, ...item });
        }
        bump.run(d);
      };
    },
  };
}
