// Every change of units on hand, per variant: restocks, sales, returns,
// adjustments and damage. Sales velocity for reorder suggestions comes from here.
import { defineProjection, type Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../topics.ts';

export const MOVEMENTS = 'movements';

export function movementsProjection(topics: Topics): Projection {
  return defineProjection({
    name: MOVEMENTS,
    version: 1,
    topics: [topics.inventoryEvents],
    indexes: ['CREATE INDEX movements_sales ON movements (variant_id, change_type, occurred_at)'],
    handles: ['StockLevelChanged'],
    migrate(db) {
      db.exec(`
        CREATE TABLE movements (
          variant_id TEXT NOT NULL,
          version INTEGER NOT NULL,
          occurred_at INTEGER NOT NULL,
          change_type TEXT NOT NULL,
          delta INTEGER NOT NULL,
          quantity_after INTEGER NOT NULL,
          reservation_id TEXT,
          order_id TEXT,
          reason TEXT,
          PRIMARY KEY (variant_id, version)
        ) WITHOUT ROWID;
      `);
    },
    handler(db) {
      const insert = db.prepare(`
        INSERT INTO movements (variant_id, version, occurred_at, change_type, delta, quantity_after, reservation_id, order_id, reason)
        VALUES (@productVariantId, @version, @occurredAt, @changeType, @delta, @quantity, @reservationId, @orderId, @reason)
        ON CONFLICT DO NOTHING`);
      return (event) => {
        if (event.type === 'StockLevelChanged') insert.run(event.data);
      };
    },
  });
}
