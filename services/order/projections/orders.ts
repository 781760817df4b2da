// Order detail: one row per order with its status and what the saga concluded.
import type { Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../platform/topics.ts';

export const ORDERS = 'orders';

export function ordersProjection(topics: Topics): Projection {
  return {
    name: ORDERS,
    version: 1,
    topics: [topics.orderEvents],
    migrate(db) {
      db.exec(`
        CREATE TABLE orders (
          order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, status TEXT NOT NULL, currency TEXT NOT NULL, total_minor INTEGER NOT NULL,
          reason TEXT, short_lines TEXT NOT NULL DEFAULT '[]', flags TEXT NOT NULL DEFAULT '[]', notes TEXT NOT NULL DEFAULT '[]',
          idempotency_key TEXT NOT NULL, request_hash TEXT NOT NULL, paid_minor INTEGER, version INTEGER NOT NULL,
          created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
        );
        CREATE INDEX orders_by_customer ON orders (customer_id, created_at);
      `);
    },
    handler(db) {
      const current = db.prepare(`SELECT version, flags FROM orders WHERE order_id = ?`);
      const created = db.prepare(`
        INSERT INTO orders (order_id, customer_id, status, currency, total_minor, notes, idempotency_key, request_hash, version, created_at, updated_at)
        VALUES (@orderId, @customerId, 'PENDING', @currency, @totalMinor, @notes, @idempotencyKey, @requestHash, @version, @occurredAt, @occurredAt)
        ON CONFLICT DO NOTHING`);
      const status = db.prepare(`UPDATE orders SET status = @status, reason = COALESCE(@reason, reason), version = @version, updated_at = @occurredAt WHERE order_id = @orderId`);
      const rejected = db.prepare(`UPDATE orders SET status = 'REJECTED', reason = @reason, short_lines = @shortLines, version = @version, updated_at = @occurredAt WHERE order_id = @orderId`);
      const paid = db.prepare(`UPDATE orders SET status = 'PAID', paid_minor = @amountMinor, version = @version, updated_at = @occurredAt WHERE order_id = @orderId`);
      const flags = db.prepare(`UPDATE orders SET flags = @flags, version = @version, updated_at = @occurredAt WHERE order_id = @orderId`);
      const bump = db.prepare(`UPDATE orders SET version = @version, updated_at = @occurredAt WHERE order_id = @orderId`);
      return (event) => {
        const d = event.data;
        const row = current.get(d.orderId) as { version: number; flags: string } | undefined;
        if (event.type === 'OrderCreated') {
          if (!row) created.run({ ...d, notes: JSON.stringify(d.priceNotes ?? []) });
          return;
        }
        if (!row || row.version >= Number(d.version)) return;
        switch (event.type) {
          case 'OrderConfirmed':
            return void status.run({ ...d, status: 'CONFIRMED', reason: null });
          case 'OrderRejected':
            return void rejected.run({ ...d, shortLines: JSON.stringify(d.shortLines) });
          case 'OrderCancelled':
            return void status.run({ ...d, status: 'CANCELLED', reason: d.reason ?? null });
          case 'OrderPaid':
            return void paid.run(d);
          case 'OrderReturned':
            return void status.run({ ...d, status: 'RETURNED', reason: null });
          case 'OrderFlaggedForReview':
            return void flags.run({ ...d, flags: JSON.stringify([...(JSON.parse(row.flags) as string[]), ...(d.reasons as string[])]) });
          default:
            return void bump.run(d);
        }
      };
    },
  };
}
