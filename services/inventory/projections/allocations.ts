// Every reservation with its current state: what an order holds, and the first
// outcome of each reservationId (which is how a repeated request is answered).
import { defineProjection, type Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../topics.ts';

export const ALLOCATIONS = 'allocations';

export function allocationsProjection(topics: Topics): Projection {
  return defineProjection({
    name: ALLOCATIONS,
    version: 1,
    topics: [topics.inventoryEvents],
    indexes: ['CREATE INDEX reservations_by_order ON reservations (order_id)'],
    handles: ['StockReserved', 'ReservationRejected', 'StockReleased', 'ReservationExpired', 'StockLevelChanged'],
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
        ) WITHOUT ROWID;
      `);
    },
    handler(db) {
      // The two statements that run for almost every event bind positionally (about 30% faster).
      const reserved = db.prepare(`
        INSERT INTO reservations (reservation_id, variant_id, order_id, status, units, requested, available_at_decision, expires_at, created_at, updated_at, variant_version)
        VALUES (?, ?, ?, 'RESERVED', ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO NOTHING`);
      const rejected = db.prepare(`
        INSERT INTO reservations (reservation_id, variant_id, order_id, status, units, requested, rejection_reason, available_at_decision, created_at, updated_at, variant_version)
        VALUES (@reservationId, @productVariantId, @orderId, 'REJECTED', 0, @requestedUnits, @reason, @availableQuantity, @occurredAt, @occurredAt, @version)
        ON CONFLICT DO NOTHING`);
      const closed = db.prepare(`UPDATE reservations SET status = ?, updated_at = ?, variant_version = ? WHERE variant_id = ? AND reservation_id = ? AND variant_version < ?`);
      const close = (d: { occurredAt: number; version: number; productVariantId: string; reservationId: string | null }, status: string) =>
        closed.run(status, d.occurredAt, d.version, d.productVariantId, d.reservationId, d.version);
      return (event) => {
        const { type, data } = event;
        switch (type) {
          case 'StockReserved':
            reserved.run(
              data.reservationId,
              data.productVariantId,
              data.orderId,
              data.reservedUnits,
              data.reservedUnits,
              data.availableQuantity,
              data.expiresAt,
              data.occurredAt,
              data.occurredAt,
              data.version,
            );
            break;
          case 'ReservationRejected':
            rejected.run(data);
            break;
          case 'StockReleased':
            close(data, 'RELEASED');
            break;
          case 'ReservationExpired':
            close(data, 'EXPIRED');
            break;
          case 'StockLevelChanged':
            if (data.changeType === 'SALE' && data.reservationId) close(data, 'SOLD');
            break;
        }
      };
    },
  });
}
