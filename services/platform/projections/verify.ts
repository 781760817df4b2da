// Comparing two databases of the same projection row by row: every table (the
// projection's bookkeeping aside), matched on its primary key (or rowid), each
// row reduced to a checksum of its values. Every difference is reported.
import crypto from 'node:crypto';
import type Database from 'better-sqlite3';

export interface RowDifference {
  table: string;
  key: string;
  live?: Record<string, unknown>;
  rebuilt?: Record<string, unknown>;
}

export interface TableComparison {
  table: string;
  liveRows: number;
  rebuiltRows: number;
  liveChecksum: string;
  rebuiltChecksum: string;
}

export interface Comparison {
  tables: TableComparison[];
  differences: RowDifference[];
}

const BOOKKEEPING = new Set(['_checkpoints', '_meta']);

function tablesOf(db: Database.Database): { name: string; virtual: boolean }[] {
  const rows = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string; sql: string }[];
  const virtual = rows.filter((r) => /^CREATE VIRTUAL TABLE/i.test(r.sql)).map((r) => r.name);
  // FTS5 keeps its index in shadow tables named after the virtual table; the virtual table's own rows are what matter.
  return rows.filter((r) => !BOOKKEEPING.has(r.name) && !virtual.some((v) => r.name.startsWith(`${v}_`))).map((r) => ({ name: r.name, virtual: virtual.includes(r.name) }));
}

function keyColumns(db: Database.Database, table: string): string[] {
  const columns = db.prepare(`SELECT name, pk FROM pragma_table_info(?)`).all(table) as { name: string; pk: number }[];
  return columns
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
}

function rowsOf(db: Database.Database, table: string, virtual: boolean): Map<string, { row: Record<string, unknown>; sum: string }> {
  const keys = virtual ? [] : keyColumns(db, table);
  const select = keys.length ? `SELECT * FROM "${table}"` : `SELECT rowid AS _rowid, * FROM "${table}"`;
  const result = new Map<string, { row: Record<string, unknown>; sum: string }>();
  for (const row of db.prepare(select).iterate() as Iterable<Record<string, unknown>>) {
    const key = JSON.stringify(keys.length ? keys.map((k) => row[k]) : [row._rowid]);
    const sum = crypto
      .createHash('sha1')
      .update(JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('base64') : v)))
      .digest('hex');
    result.set(key, { row, sum });
  }
  return result;
}

function tableChecksum(rows: Map<string, { sum: string }>): string {
  const hash = crypto.createHash('sha256');
  for (const sum of [...rows.values()].map((r) => r.sum).sort()) hash.update(sum);
  return hash.digest('hex').slice(0, 16);
}

export function compareDatabases(live: Database.Database, rebuilt: Database.Database): Comparison {
  const comparison: Comparison = { tables: [], differences: [] };
  const names = new Map([...tablesOf(live), ...tablesOf(rebuilt)].map((t) => [t.name, t.virtual]));
  for (const [table, virtual] of names) {
    const exists = (db: Database.Database) => db.prepare(`SELECT 1 FROM sqlite_master WHERE name = ?`).get(table) !== undefined;
    const none = () => new Map<string, { row: Record<string, unknown>; sum: string }>();
    const a = exists(live) ? rowsOf(live, table, virtual) : none();
    const b = exists(rebuilt) ? rowsOf(rebuilt, table, virtual) : none();
    comparison.tables.push({ table, liveRows: a.size, rebuiltRows: b.size, liveChecksum: tableChecksum(a), rebuiltChecksum: tableChecksum(b) });
    for (const [key, l] of a) {
      const r = b.get(key);
      if (!r) comparison.differences.push({ table, key, live: l.row });
      else if (r.sum !== l.sum) comparison.differences.push({ table, key, live: l.row, rebuilt: r.row });
    }
    for (const [key, r] of b) if (!a.has(key)) comparison.differences.push({ table, key, rebuilt: r.row });
  }
  return comparison;
}
