// Reads of the order read models, shaped as the HTTP API returns them.
import type Database from 'better-sqlite3';
import { fromMinor } from '../../platform/money.ts';
import { perDatabase } from '../../platform/projections/statements.ts';
import type { CopiedVariant } from '../placement.ts';

export interface OrderRow {
  order_id: string;
  customer_id: string;
  status: string;
  currency: string;
  total_minor: number;
  reason: string | null;
  short_lines: string;
  flags: string;
  notes: string;
  request_hash: string;
  paid_minor: number | null;
  version: number;
  created_at: number;
  updated_at: number;
}
export interface ItemRow {
  order_id: string;
  line: number;
  variant_id: string;
  product_id: string;
  sku: string;
  quantity: number;
  unit_price_minor: number;
  currency: string;
  reservation_id: string;
  reservation_outcome: string | null;
  returned: number;
  price_source: string;
}
export interface SagaCount {
  open: number;
  late: number;
}
export interface SnapshotRow {
  variant_id: string;
  product_id: string;
  sku: string;
  price_minor: number;
  currency: string;
  status: string;
}

const orders = perDatabase((db) => ({
  one: db.prepare(`SELECT * FROM orders WHERE order_id = ?`),
  pending: db.prepare(`SELECT COUNT(*) AS open, COUNT(*) FILTER (WHERE created_at < ?) AS late FROM orders WHERE status = 'PENDING'`),
}));
const items = perDatabase((db) => ({ of: db.prepare(`SELECT * FROM order_items WHERE order_id = ? ORDER BY line`) }));
const snapshot = perDatabase((db) => ({ many: db.prepare(`SELECT * FROM variants WHERE variant_id IN (SELECT value FROM json_each(?))`) }));

export const orderQueries = {
  order: (db: Database.Database, id: string) => orders(db).one.get(id) as OrderRow | undefined,
  /** Orders whose saga has not concluded (placed, inventory not yet answered for every line), and of those the ones placed before `lateBefore`. */
  openSagas: (db: Database.Database, lateBefore: number) => orders(db).pending.get(lateBefore) as SagaCount,
  items: (db: Database.Database, id: string) => items(db).of.all(id) as ItemRow[],
  /** The order service's copy of the catalogue, for these variants. */
  snapshot: (db: Database.Database, ids: string[]): Map<string, CopiedVariant> =>
    new Map(
      (snapshot(db).many.all(JSON.stringify(ids)) as SnapshotRow[]).map((r) => [
        r.variant_id,
        { productId: r.product_id, sku: r.sku, priceMinor: r.price_minor, currency: r.currency, status: r.status },
      ]),
    ),
};

export function itemView(i: ItemRow) {
  return {
    variantId: i.variant_id,
    productId: i.product_id,
    sku: i.sku,
    quantity: i.quantity,
    unitPrice: fromMinor(i.unit_price_minor, i.currency),
    /** PRODUCT_SERVICE: the product service's answer at placement; CATALOGUE_COPY: the order service's own copy. */
    priceSource: i.price_source,
    reservationId: i.reservation_id,
    reservation: i.reservation_outcome ?? 'PENDING',
    ...(i.returned ? { returned: i.returned } : {}),
  };
}

export function orderView(o: OrderRow, lines: ItemRow[]) {
  const flags = JSON.parse(o.flags) as string[];
  const notes = JSON.parse(o.notes) as string[];
  const shortLines = JSON.parse(o.short_lines) as { variantId: string; sku: string; requested: number; available: number }[];
  return {
    orderId: o.order_id,
    customerId: o.customer_id,
    status: o.status,
    currency: o.currency,
    items: lines.map(itemView),
    total: fromMinor(o.total_minor, o.currency),
    ...(o.reason ? { reason: o.reason } : {}),
    ...(shortLines.length ? { shortLines } : {}),
    ...(flags.length ? { flags } : {}),
    ...(notes.length ? { notes } : {}),
    version: o.version,
    createdAt: new Date(o.created_at).toISOString(),
    updatedAt: new Date(o.updated_at).toISOString(),
  };
}
