// The order service's own view of the catalogue, from product.events: what an
// order line is priced at when it is placed, and whether the variant sells.
import { defineProjection, type Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../topics.ts';

export const CATALOGUE_SNAPSHOT = 'catalogue-snapshot';

export function catalogueSnapshotProjection(topics: Topics): Projection {
  return defineProjection({
    name: CATALOGUE_SNAPSHOT,
    version: 1,
    topics: [topics.productEvents],
    handles: ['ProductCreated', 'ProductUpdated', 'ProductDiscontinued', 'ProductVariantCreated', 'ProductPriceChanged', 'ProductVariantUpdated', 'ProductVariantDeleted'],
    migrate(db) {
      db.exec(`
        CREATE TABLE products (product_id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE variants (variant_id TEXT PRIMARY KEY, product_id TEXT NOT NULL, sku TEXT NOT NULL, price_minor INTEGER NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL) WITHOUT ROWID;
      `);
    },
    handler(db) {
      const version = db.prepare(`SELECT version FROM products WHERE product_id = ?`);
      const product = db.prepare(`INSERT INTO products (product_id, name, version) VALUES (@productId, @name, @version) ON CONFLICT DO NOTHING`);
      const rename = db.prepare(`UPDATE products SET name = @name WHERE product_id = @productId`);
      const bump = db.prepare(`UPDATE products SET version = @version WHERE product_id = @productId`);
      const variant = db.prepare(
        `INSERT INTO variants (variant_id, product_id, sku, price_minor, currency, status) VALUES (@variantId, @productId, @sku, @priceMinor, @currency, 'PENDING_INVENTORY') ON CONFLICT DO NOTHING`,
      );
      const price = db.prepare(`UPDATE variants SET price_minor = @newPriceMinor WHERE variant_id = @variantId`);
      const status = db.prepare(`UPDATE variants SET status = @status WHERE variant_id = @variantId`);
      return (event) => {
        const { type, data: d } = event;
        const seen = version.get(d.productId) as { version: number } | undefined;
        if (type === 'ProductCreated') {
          if (!seen) product.run(d);
          return;
        }
        if (!seen || seen.version >= d.version) return;
        switch (type) {
          case 'ProductUpdated':
            rename.run(d);
            break;
          case 'ProductVariantCreated':
            variant.run(d);
            break;
          case 'ProductPriceChanged':
            price.run(d);
            break;
          case 'ProductVariantUpdated':
            status.run(d);
            break;
          case 'ProductVariantDeleted':
            status.run({ ...d, status: 'DELETED' });
            break;
        }
        bump.run(d);
      };
    },
  });
}
