// An indicative view of each variant's stock, from inventory's events: what is
// available, its status, and when inventory last changed it (so a page can say
// "availability updated at 14:05"). Eventually consistent by design; the
// authoritative answer is inventory's.
import { defineProjection, type Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../topics.ts';

export const STOCK_VIEW = 'stock-view';

export function stockViewProjection(topics: Topics): Projection {
  return defineProjection({
    name: STOCK_VIEW,
    version: 1,
    topics: [topics.inventoryEvents],
    handles: ['InventoryRecordInitialized', 'StockReserved', 'StockReleased', 'ReservationExpired', 'StockLevelChanged', 'StockStatusChanged'],
    migrate(db) {
      db.exec(`CREATE TABLE stock (variant_id TEXT PRIMARY KEY, available INTEGER NOT NULL, status TEXT NOT NULL, version INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID`);
    },
    handler(db) {
      const initialized = db.prepare(
        `INSERT INTO stock (variant_id, available, status, version, updated_at) VALUES (@productVariantId, @availableQuantity, @status, @version, @occurredAt) ON CONFLICT DO NOTHING`,
      );
      const available = db.prepare(`UPDATE stock SET available = @availableQuantity, version = @version, updated_at = @occurredAt WHERE variant_id = @productVariantId AND version < @version`);
      const status = db.prepare(`UPDATE stock SET status = @status, version = @version, updated_at = @occurredAt WHERE variant_id = @productVariantId AND version < @version`);
      return (event) => {
        switch (event.type) {
          case 'InventoryRecordInitialized':
            initialized.run(event.data);
            break;
          case 'StockReserved':
          case 'StockReleased':
          case 'ReservationExpired':
          case 'StockLevelChanged':
            available.run(event.data);
            break;
          case 'StockStatusChanged':
            status.run(event.data);
            break;
        }
      };
    },
  });
}
