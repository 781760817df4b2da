// Product detail: products and their variants with statuses.
import { defineProjection, type Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../topics.ts';

export const CATALOGUE = 'catalogue';

export function catalogueProjection(topics: Topics): Projection {
  return defineProjection({
    name: CATALOGUE,
    version: 1,
    topics: [topics.productEvents],
    handles: ['ProductCreated', 'ProductUpdated', 'ProductDiscontinued', 'ProductVariantCreated', 'ProductPriceChanged', 'ProductVariantUpdated', 'ProductVariantDeleted'],
    migrate(db) {
      db.exec(`
        CREATE TABLE products (
          product_id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, category TEXT, currency TEXT NOT NULL,
          discontinued INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE variants (
          variant_id TEXT PRIMARY KEY, product_id TEXT NOT NULL, sku TEXT NOT NULL, price_minor INTEGER NOT NULL, currency TEXT NOT NULL,
          attributes TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT, initial_stock INTEGER, low_stock_threshold INTEGER,
          position INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX variants_by_product ON variants (product_id, position);
      `);
    },
    handler(db) {
      // Every event of a product carries its next version: apply each once, in order.
      const fresh = db.prepare(`SELECT version FROM products WHERE product_id = ?`);
      const bump = db.prepare(`UPDATE products SET version = @version, updated_at = @occurredAt WHERE product_id = @productId`);
      const created = db.prepare(
        `INSERT INTO products (product_id, name, description, category, currency, version, created_at, updated_at) VALUES (@productId, @name, @description, @category, @currency, @version, @occurredAt, @occurredAt) ON CONFLICT DO NOTHING`,
      );
      const variant = db.prepare(`
        INSERT INTO variants (variant_id, product_id, sku, price_minor, currency, attributes, status, initial_stock, low_stock_threshold, position, created_at, updated_at)
        VALUES (@variantId, @productId, @sku, @priceMinor, @currency, @attributes, 'PENDING_INVENTORY', @initialStock, @lowStockThreshold,
                (SELECT COUNT(*) FROM variants WHERE product_id = @productId), @occurredAt, @occurredAt)
        ON CONFLICT DO NOTHING`);
      const details = db.prepare(`UPDATE products SET name = @name, description = @description, category = @category WHERE product_id = @productId`);
      const discontinued = db.prepare(`UPDATE products SET discontinued = 1 WHERE product_id = @productId`);
      const price = db.prepare(`UPDATE variants SET price_minor = @newPriceMinor, updated_at = @occurredAt WHERE variant_id = @variantId`);
      const status = db.prepare(`UPDATE variants SET status = @status, status_reason = @reason, updated_at = @occurredAt WHERE variant_id = @variantId`);
      return (event) => {
        const { type, data: d } = event;
        const current = fresh.get(d.productId) as { version: number } | undefined;
        if (type !== 'ProductCreated' && (!current || current.version >= d.version)) return;
        if (type === 'ProductCreated' && current) return;
        switch (type) {
          case 'ProductCreated':
            created.run(d);
            return;
          case 'ProductVariantCreated':
            variant.run({ ...d, attributes: JSON.stringify(d.attributes ?? {}) });
            break;
          case 'ProductUpdated':
            details.run(d);
            break;
          case 'ProductDiscontinued':
            discontinued.run(d);
            break;
          case 'ProductPriceChanged':
            price.run(d);
            break;
          case 'ProductVariantUpdated':
            status.run(d);
            break;
          case 'ProductVariantDeleted':
            status.run({ ...d, status: 'DELETED', reason: null });
            break;
        }
        bump.run(d);
      };
    },
  });
}
