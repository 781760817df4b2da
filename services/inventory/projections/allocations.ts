// Every reservation with its current state: what an order holds, and the first
// outcome of each reservationId (which is how a repeated request is answered).
import type { Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../platform/topics.ts';

export const ALLOCATIONS = 'allocations';

export function allocationsProjection(topics: Topics): Projection {
  return {
    name: ALLOCATIONS,
    version: 1,
    topics: [topics.inventoryEvents],
    migrate(db) {
      db.exec(`
        CREATE TABLE reservations (
          reservation_id TEXT NOT NULL,
          variant_id TEXT NOT NULL,
          order_id TEXT,
          status TEXT NOT NULL,
          units INTEGER NOT NULL,
          requested INTEGER NOT NULL,
          rejection_reason TEXT,
          available_at_decision INTEGER,
          expires_at INTEGER,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          variant_version INTEGER NOT NULL,
          PRIMARY KEY (variant_id, reservation_id)
        );
        CREATE INDEX reservations_by_order ON reservations (order_id);
        CREATE INDEX reservations_by_id ON reservations (reservation_id);
      `);
    },
    handler(db) {
      const reserved = db.prepare(`
        INSERT INTO reservations (reservation_id, variant_id, order_id, status, units, requested, available_at_decision, expires_at, created_at, updated_at, variant_version)
        VALUES (@reservationId, @productVariantId, @orderId, 'RESERVED', @reservedUnits, @reservedUnits, @availableQuantity, @expiresAt, @occurredAt, @occurredAt, @version)
        ON CONFLICT DO NOTHING`);
      const rejected = db.prepare(`
        INSERT INTO reservations (reservation_id, variant_id, order_id, status, units, requested, rejection_reason, available_at_decision, created_at, updated_at, variant_version)
        VALUES (@reservationId, @productVariantId, @orderId, 'REJECTED', 0, @requestedUnits, @reason, @availableQuantity, @occurredAt, @occurredAt, @version)
        ON CONFLICT DO NOTHING`);
      const closed = db.prepare(`
        UPDATE reservations SET status = @status, updated_at = @occurredAt, variant_version = @version
        WHERE variant_id = @productVariantId AND reservation_id = @reservationId AND variant_version < @version`);
      return (event) => {
        const data = event.data;
        switch (event.type) {
          case 'StockReserved':
            reserved.run(data);
            break;
          case 'ReservationRejected':
            rejected.run(data);
            break;
          case 'StockReleased':
            closed.run({ ...data, status: 'RELEASED' });
            break;
          case 'ReservationExpired':
            closed.run({ ...data, status: 'EXPIRED' });
            break;
          case 'StockLevelChanged':
            if (data.changeType === 'SALE' && data.reservationId) closed.run({ ...data, status: 'SOLD' });
            break;
        }
      };
    },
  };
}
