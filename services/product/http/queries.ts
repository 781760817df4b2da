// Reads of the catalogue's read models, shaped as the HTTP API returns them.
import type Database from 'better-sqlite3';
import { fromMinor } from '../../platform/money.ts';
import { perDatabase } from '../../platform/projections/statements.ts';
import { ftsQuery } from '../projections/search.ts';

export interface ProductRow {
  product_id: string;
  name: string;
  description: string | null;
  category: string | null;
  currency: string;
  discontinued: number;
  version: number;
  created_at: number;
  updated_at: number;
}
export interface VariantRow {
  variant_id: string;
  product_id: string;
  sku: string;
  price_minor: number;
  currency: string;
  attributes: string;
  status: string;
  status_reason: string | null;
  initial_stock: number | null;
  low_stock_threshold: number | null;
  updated_at: number;
}
export interface StockRow {
  variant_id: string;
  available: number;
  status: string;
  updated_at: number;
}

const catalogue = perDatabase((db) => ({
  product: db.prepare(`SELECT * FROM products WHERE product_id = ?`),
  products: db.prepare(`SELECT * FROM products WHERE product_id IN (SELECT value FROM json_each(?))`),
  variantsOf: db.prepare(`SELECT * FROM variants WHERE product_id IN (SELECT value FROM json_each(?)) ORDER BY product_id, position`),
  variantsOfOne: db.prepare(`SELECT * FROM variants WHERE product_id = ? ORDER BY position`),
  variant: db.prepare(`SELECT * FROM variants WHERE variant_id = ?`),
  variants: db.prepare(`SELECT v.*, p.name AS product_name FROM variants v JOIN products p USING (product_id) WHERE variant_id IN (SELECT value FROM json_each(?))`),
}));

const stock = perDatabase((db) => ({
  many: db.prepare(`SELECT * FROM stock WHERE variant_id IN (SELECT value FROM json_each(?))`),
  one: db.prepare(`SELECT * FROM stock WHERE variant_id = ?`),
}));

const prices = perDatabase((db) => ({ one: db.prepare(`SELECT * FROM prices WHERE variant_id = ?`) }));

const search = perDatabase((db) => ({
  text: db.prepare(`
    SELECT d.product_id FROM search_index s JOIN documents d ON d.id = s.rowid
    WHERE search_index MATCH @query AND (@category IS NULL OR lower(d.category) = lower(@category))
    ORDER BY bm25(search_index, 10.0, 2.0, 5.0, 3.0) LIMIT @limit`),
  category: db.prepare(`SELECT product_id FROM documents WHERE (@category IS NULL OR lower(category) = lower(@category)) ORDER BY name LIMIT @limit`),
}));

export function variantView(v: VariantRow, s: StockRow | undefined) {
  return {
    id: v.variant_id,
    sku: v.sku,
    price: fromMinor(v.price_minor, v.currency),
    currency: v.currency,
    attributes: JSON.parse(v.attributes) as Record<string, string>,
    status: v.status,
    ...(v.status_reason ? { statusReason: v.status_reason } : {}),
    // Indicative: inventory's own view is authoritative (see /stock).
    stock: s ? { availableQuantity: s.available, status: s.status, updatedAt: new Date(s.updated_at).toISOString() } : null,
  };
}

/** One product by id: the storefront's hottest read, so plain key lookups rather than json_each sets. */
export function productView(catalogueDb: Database.Database, stockDb: Database.Database, id: string) {
  const product = catalogue(catalogueDb).product.get(id) as ProductRow | undefined;
  if (!product) return undefined;
  const variants = catalogue(catalogueDb).variantsOfOne.all(id) as VariantRow[];
  const levels = new Map<string, StockRow>();
  for (const v of variants) {
    const level = stock(stockDb).one.get(v.variant_id) as StockRow | undefined;
    if (level) levels.set(v.variant_id, level);
  }
  return shape(product, variants, levels);
}

export function productViews(catalogueDb: Database.Database, stockDb: Database.Database, ids: string[]) {
  const json = JSON.stringify(ids);
  const products = catalogue(catalogueDb).products.all(json) as ProductRow[];
  const variants = catalogue(catalogueDb).variantsOf.all(JSON.stringify(products.map((p) => p.product_id))) as VariantRow[];
  const levels = new Map((stock(stockDb).many.all(JSON.stringify(variants.map((v) => v.variant_id))) as StockRow[]).map((s) => [s.variant_id, s]));
  const byId = new Map(products.map((p) => [p.product_id, p]));
  return ids.flatMap((id) => {
    const p = byId.get(id);
    return p
      ? [
          shape(
            p,
            variants.filter((v) => v.product_id === id),
            levels,
          ),
        ]
      : [];
  });
}

function shape(p: ProductRow, variants: VariantRow[], levels: Map<string, StockRow>) {
  return {
    id: p.product_id,
    name: p.name,
    description: p.description,
    category: p.category,
    currency: p.currency,
    status: p.discontinued ? 'DISCONTINUED' : 'ACTIVE',
    version: p.version,
    createdAt: new Date(p.created_at).toISOString(),
    updatedAt: new Date(p.updated_at).toISOString(),
    variants: variants.map((v) => variantView(v, levels.get(v.variant_id))),
  };
}

export const catalogueQueries = {
  variant: (db: Database.Database, id: string) => catalogue(db).variant.get(id) as VariantRow | undefined,
  variantsWithProduct: (db: Database.Database, ids: string[]) => catalogue(db).variants.all(JSON.stringify(ids)) as (VariantRow & { product_name: string })[],
  stockOf: (db: Database.Database, ids: string[]) => stock(db).many.all(JSON.stringify(ids)) as StockRow[],
  price: (db: Database.Database, id: string) =>
    prices(db).one.get(id) as { variant_id: string; product_id: string; sku: string; price_minor: number; currency: string; updated_at: number } | undefined,
  search(db: Database.Database, text: string | undefined, category: string | undefined, limit: number): string[] {
    const query = text ? ftsQuery(text) : undefined;
    if (text && !query) return [];
    const rows = query ? search(db).text.all({ query, category: category ?? null, limit }) : search(db).category.all({ category: category ?? null, limit });
    return (rows as { product_id: string }[]).map((r) => r.product_id);
  },
};
