// Order detail: one row per order with its status and what the saga concluded.
import { defineProjection, type Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../topics.ts';

export const ORDERS = 'orders';

export function ordersProjection(topics: Topics): Projection {
  return defineProjection({
    name: ORDERS,
    // 2: indexed by status (admission control counts open sagas); 3: and by age within a status (and late ones).
    version: 3,
    topics: [topics.orderEvents],
    indexes: ['CREATE INDEX orders_by_customer ON orders (customer_id, created_at)', 'CREATE INDEX orders_by_status ON orders (status, created_at)'],
    // Reservation outcomes per line are the items projection's business; the
    // order's detail moves on its own events (its version guard only needs
    // versions to grow), so a rebuild need not even decode those.
    handles: ['OrderCreated', 'OrderConfirmed', 'OrderRejected', 'OrderCancelled', 'OrderPaid', 'OrderReturned', 'OrderFlaggedForReview'],
    migrate(db) {
      db.exec(`
        CREATE TABLE orders (
          order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, status TEXT NOT NULL, currency TEXT NOT NULL, total_minor INTEGER NOT NULL,
          reason TEXT, short_lines TEXT NOT NULL DEFAULT '[]', flags TEXT NOT NULL DEFAULT '[]', notes TEXT NOT NULL DEFAULT '[]',
          idempotency_key TEXT NOT NULL, request_hash TEXT NOT NULL, paid_minor INTEGER, version INTEGER NOT NULL,
          created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
    handler(db) {
      // Version guards are in the WHERE clauses: a replayed event changes no row.
      const created = db.prepare(`
        INSERT INTO orders (order_id, customer_id, status, currency, total_minor, notes, idempotency_key, request_hash, version, created_at, updated_at)
        VALUES (@orderId, @customerId, 'PENDING', @currency, @totalMinor, @notes, @idempotencyKey, @requestHash, @version, @occurredAt, @occurredAt)
        ON CONFLICT DO NOTHING`);
      const guard = 'WHERE order_id = @orderId AND version < @version';
      // The statements most events run bind positionally (about 30% faster than by name).
      const status = db.prepare(`UPDATE orders SET status = ?, reason = COALESCE(?, reason), version = ?, updated_at = ? WHERE order_id = ? AND version < ?`);
      const setStatus = (d: { version: number; occurredAt: number; orderId: string }, value: string, reason: string | null) =>
        status.run(value, reason ?? null, d.version, d.occurredAt, d.orderId, d.version);
      const rejected = db.prepare(`UPDATE orders SET status = 'REJECTED', reason = @reason, short_lines = @shortLines, version = @version, updated_at = @occurredAt ${guard}`);
      const paid = db.prepare(`UPDATE orders SET status = 'PAID', paid_minor = @amountMinor, version = @version, updated_at = @occurredAt ${guard}`);
      // Appends the new reasons to the JSON array of flags.
      const flags = db.prepare(
        `UPDATE orders SET flags = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(flags) UNION ALL SELECT value FROM json_each(@reasons))), version = @version, updated_at = @occurredAt ${guard}`,
      );
      return (event) => {
        const { type, data: d } = event;
        if (type === 'OrderCreated') {
          created.run({ ...d, notes: JSON.stringify(d.priceNotes ?? []) });
          return;
        }
        switch (type) {
          case 'OrderConfirmed':
            return void setStatus(d, 'CONFIRMED', null);
          case 'OrderRejected':
            return void rejected.run({ ...d, shortLines: JSON.stringify(d.shortLines) });
          case 'OrderCancelled':
            return void setStatus(d, 'CANCELLED', d.reason);
          case 'OrderPaid':
            return void paid.run(d);
          case 'OrderReturned':
            return void setStatus(d, 'RETURNED', null);
          case 'OrderFlaggedForReview':
            return void flags.run({ ...d, reasons: JSON.stringify(d.reasons) });
          default:
            return;
        }
      };
    },
  });
}
