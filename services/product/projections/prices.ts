// Price lookup: a variant's current unit price.
import { defineProjection, type Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../topics.ts';

export const PRICES = 'prices';

export function pricesProjection(topics: Topics): Projection {
  return defineProjection({
    name: PRICES,
    version: 1,
    topics: [topics.productEvents],
    handles: ['ProductVariantCreated', 'ProductPriceChanged', 'ProductVariantDeleted'],
    migrate(db) {
      db.exec(
        `CREATE TABLE prices (variant_id TEXT PRIMARY KEY, product_id TEXT NOT NULL, sku TEXT NOT NULL, price_minor INTEGER NOT NULL, currency TEXT NOT NULL, product_version INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID`,
      );
    },
    handler(db) {
      const created = db.prepare(
        `INSERT INTO prices (variant_id, product_id, sku, price_minor, currency, product_version, updated_at) VALUES (@variantId, @productId, @sku, @priceMinor, @currency, @version, @occurredAt) ON CONFLICT DO NOTHING`,
      );
      const changed = db.prepare(`UPDATE prices SET price_minor = @newPriceMinor, product_version = @version, updated_at = @occurredAt WHERE variant_id = @variantId AND product_version < @version`);
      const deleted = db.prepare(`DELETE FROM prices WHERE variant_id = @variantId`);
      return (event) => {
        if (event.type === 'ProductVariantCreated') created.run(event.data);
        else if (event.type === 'ProductPriceChanged') changed.run(event.data);
        else if (event.type === 'ProductVariantDeleted') deleted.run(event.data);
      };
    },
  });
}
