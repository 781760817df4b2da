// Reads of inventory's read models, shaped as the HTTP API returns them.
import type Database from 'better-sqlite3';
import { fromMinor } from '../../platform/money.ts';
import { perDatabase } from '../../platform/projections/statements.ts';

export interface StockRow {
  variant_id: string;
  product_id: string;
  sku: string;
  quantity: number;
  reserved: number;
  available: number;
  status: string;
  low_stock_threshold: number;
  retired: number;
  retirement_blocked: number;
  retirement_blocked_at: number | null;
  version: number;
  updated_at: number;
}

export interface ReservationRow {
  reservation_id: string;
  variant_id: string;
  order_id: string | null;
  status: string;
  units: number;
  requested: number;
  rejection_reason: string | null;
  available_at_decision: number | null;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
}

export function stockView(row: StockRow) {
  return {
    productVariantId: row.variant_id,
    productId: row.product_id,
    sku: row.sku,
    quantity: row.quantity,
    reservedQuantity: row.reserved,
    availableQuantity: row.available,
    status: row.status,
    lowStockThreshold: row.low_stock_threshold,
    ...(row.retirement_blocked ? { retirementBlocked: true } : {}),
    version: row.version,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export function reservationView(row: ReservationRow) {
  return {
    reservationId: row.reservation_id,
    productVariantId: row.variant_id,
    orderId: row.order_id,
    status: row.status,
    quantity: row.status === 'REJECTED' ? row.requested : row.units,
    ...(row.rejection_reason ? { reason: row.rejection_reason, availableQuantity: row.available_at_decision } : {}),
    ...(row.expires_at ? { expiresAt: new Date(row.expires_at).toISOString() } : {}),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

const stockStatements = perDatabase((db) => ({
  one: db.prepare(`SELECT * FROM stock WHERE variant_id = ? AND retired = 0`),
  many: db.prepare(`SELECT * FROM stock WHERE variant_id IN (SELECT value FROM json_each(?)) AND retired = 0`),
  low: db.prepare(`SELECT * FROM stock WHERE status IN ('LOW_STOCK', 'OUT_OF_STOCK') AND retired = 0 ORDER BY available ASC, sku ASC LIMIT ?`),
  byProduct: db.prepare(`SELECT * FROM stock WHERE product_id = ? AND retired = 0 ORDER BY sku`),
  blocked: db.prepare(`SELECT * FROM stock WHERE retirement_blocked = 1 AND retired = 0 ORDER BY retirement_blocked_at, sku LIMIT ?`),
  blockedCount: db.prepare(`SELECT COUNT(*) AS n FROM stock WHERE retirement_blocked = 1 AND retired = 0`),
}));

export const stockQueries = {
  one: (db: Database.Database, variantId: string) => stockStatements(db).one.get(variantId) as StockRow | undefined,
  many: (db: Database.Database, ids: string[]) => stockStatements(db).many.all(JSON.stringify(ids)) as StockRow[],
  low: (db: Database.Database, limit: number) => stockStatements(db).low.all(limit) as StockRow[],
  byProduct: (db: Database.Database, productId: string) => stockStatements(db).byProduct.all(productId) as StockRow[],
  /** Variants deleted from the catalogue while stock was on hand: waiting for an operator (seed 001). */
  blockedRetirements: (db: Database.Database, limit: number) => stockStatements(db).blocked.all(limit) as StockRow[],
  blockedRetirementCount: (db: Database.Database) => (stockStatements(db).blockedCount.get() as { n: number }).n,
};

/** A blocked retirement, as the report lists it: what is still on hand, and since when it waits. */
export function blockedRetirementView(row: StockRow) {
  return {
    productVariantId: row.variant_id,
    productId: row.product_id,
    sku: row.sku,
    quantity: row.quantity,
    reservedQuantity: row.reserved,
    blockedSince: row.retirement_blocked_at === null ? null : new Date(row.retirement_blocked_at).toISOString(),
  };
}

const reservationStatements = perDatabase((db) => ({
  one: db.prepare(`SELECT * FROM reservations WHERE variant_id = ? AND reservation_id = ?`),
  byOrder: db.prepare(`SELECT * FROM reservations WHERE order_id = ? ORDER BY created_at, reservation_id`),
}));

export const reservationQueries = {
  one: (db: Database.Database, variantId: string, reservationId: string) => reservationStatements(db).one.get(variantId, reservationId) as ReservationRow | undefined,
  byOrder: (db: Database.Database, orderId: string) => reservationStatements(db).byOrder.all(orderId) as ReservationRow[],
};

const movementStatements = perDatabase((db) => ({
  forVariant: db.prepare(`SELECT * FROM movements WHERE variant_id = ? ORDER BY version DESC LIMIT ?`),
  recent: db.prepare(`SELECT * FROM movements ORDER BY occurred_at DESC, variant_id, version DESC LIMIT ?`),
  sold: db.prepare(`SELECT COALESCE(-SUM(delta), 0) AS units FROM movements WHERE variant_id = ? AND change_type = 'SALE' AND occurred_at >= ?`),
}));

interface MovementRow {
  variant_id: string;
  version: number;
  occurred_at: number;
  change_type: string;
  delta: number;
  quantity_after: number;
  reservation_id: string | null;
  order_id: string | null;
  reason: string | null;
}

export const movementQueries = {
  list(db: Database.Database, variantId: string | undefined, limit: number) {
    const rows = (variantId ? movementStatements(db).forVariant.all(variantId, limit) : movementStatements(db).recent.all(limit)) as MovementRow[];
    return rows.map((r) => ({
      productVariantId: r.variant_id,
      version: r.version,
      occurredAt: new Date(r.occurred_at).toISOString(),
      changeType: r.change_type,
      delta: r.delta,
      quantityAfter: r.quantity_after,
      reservationId: r.reservation_id,
      orderId: r.order_id,
      reason: r.reason,
    }));
  },
  unitsSoldSince: (db: Database.Database, variantId: string, since: number) => (movementStatements(db).sold.get(variantId, since) as { units: number }).units,
};

const valuationStatements = perDatabase((db) => ({
  lines: db.prepare(`
    SELECT o.variant_id, o.sku, o.quantity, p.price_minor, p.currency
    FROM on_hand o LEFT JOIN prices p ON p.variant_id = o.variant_id
    ORDER BY o.sku`),
}));

export function inventoryValue(db: Database.Database) {
  const rows = valuationStatements(db).lines.all() as { variant_id: string; sku: string; quantity: number; price_minor: number | null; currency: string | null }[];
  const totals = new Map<string, number>();
  const variants = [];
  const unpriced = [];
  for (const r of rows) {
    if (r.price_minor === null || r.currency === null) {
      unpriced.push({ productVariantId: r.variant_id, sku: r.sku, quantity: r.quantity });
      continue;
    }
    const valueMinor = r.quantity * r.price_minor;
    totals.set(r.currency, (totals.get(r.currency) ?? 0) + valueMinor);
    variants.push({
      productVariantId: r.variant_id,
      sku: r.sku,
      quantity: r.quantity,
      unitPrice: fromMinor(r.price_minor, r.currency),
      currency: r.currency,
      value: fromMinor(valueMinor, r.currency),
    });
  }
  return {
    totals: [...totals].map(([currency, minor]) => ({ currency, value: fromMinor(minor, currency) })),
    variants,
    unpriced,
  };
}
