// What the stock on hand is worth: units from inventory's events, unit prices
// from the catalogue's (product.events), joined per variant.
import { defineProjection, type Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../topics.ts';

export const VALUATION = 'valuation';

export function valuationProjection(topics: Topics): Projection {
  return defineProjection({
    name: VALUATION,
    version: 1,
    topics: [topics.inventoryEvents, topics.productEvents],
    handles: ['ProductVariantCreated', 'ProductPriceChanged', 'InventoryRecordInitialized', 'StockLevelChanged', 'InventoryRecordRetired'],
    migrate(db) {
      db.exec(`
        CREATE TABLE prices (variant_id TEXT PRIMARY KEY, product_id TEXT NOT NULL, price_minor INTEGER NOT NULL, currency TEXT NOT NULL, product_version INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE on_hand (variant_id TEXT PRIMARY KEY, sku TEXT NOT NULL, quantity INTEGER NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;
      `);
    },
    handler(db) {
      const price = db.prepare(`
        INSERT INTO prices (variant_id, product_id, price_minor, currency, product_version) VALUES (@variantId, @productId, @price, @currency, @version)
        ON CONFLICT (variant_id) DO UPDATE SET price_minor = excluded.price_minor, currency = excluded.currency, product_version = excluded.product_version
        WHERE prices.product_version < excluded.product_version`);
      const created = db.prepare(`INSERT INTO on_hand (variant_id, sku, quantity, version) VALUES (@productVariantId, @sku, @quantity, @version) ON CONFLICT DO NOTHING`);
      const quantity = db.prepare(`UPDATE on_hand SET quantity = @quantity, version = @version WHERE variant_id = @productVariantId AND version < @version`);
      const retired = db.prepare(`DELETE FROM on_hand WHERE variant_id = @productVariantId`);
      return (event) => {
        const { type, data: d } = event;
        switch (type) {
          case 'ProductVariantCreated':
            price.run({ variantId: d.variantId, productId: d.productId, price: d.priceMinor, currency: d.currency, version: d.version });
            break;
          case 'ProductPriceChanged':
            price.run({ variantId: d.variantId, productId: d.productId, price: d.newPriceMinor, currency: d.currency, version: d.version });
            break;
          case 'InventoryRecordInitialized':
            created.run(d);
            break;
          case 'StockLevelChanged':
            quantity.run(d);
            break;
          case 'InventoryRecordRetired':
            retired.run(d);
            break;
        }
      };
    },
  });
}
