// Full-text search over the catalogue with SQLite FTS5: name, description,
// SKUs and category, ranked by bm25; category also filters exactly.
import { defineProjection, type Projection } from '../../platform/projections/projection.ts';
import type { Topics } from '../../topics.ts';

export const SEARCH = 'search';

export function searchProjection(topics: Topics): Projection {
  return defineProjection({
    name: SEARCH,
    version: 1,
    topics: [topics.productEvents],
    handles: ['ProductCreated', 'ProductUpdated', 'ProductDiscontinued', 'ProductVariantCreated', 'ProductPriceChanged', 'ProductVariantUpdated', 'ProductVariantDeleted'],
    indexes: ['CREATE INDEX documents_by_category ON documents (lower(category))'],
    migrate(db) {
      db.exec(`
        CREATE TABLE documents (
          id INTEGER PRIMARY KEY, product_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT, category TEXT,
          skus TEXT NOT NULL DEFAULT '[]', discontinued INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL
        );
        CREATE VIRTUAL TABLE search_index USING fts5(name, description, skus, category, tokenize = 'unicode61 remove_diacritics 2');
      `);
    },
    handler(db) {
      const find = db.prepare(`SELECT id, version, skus FROM documents WHERE product_id = ?`);
      const insert = db.prepare(`INSERT INTO documents (product_id, name, description, category, version) VALUES (@productId, @name, @description, @category, @version)`);
      const details = db.prepare(`UPDATE documents SET name = @name, description = @description, category = @category, version = @version WHERE id = @id`);
      const skus = db.prepare(`UPDATE documents SET skus = @skus, version = @version WHERE id = @id`);
      const discontinued = db.prepare(`UPDATE documents SET discontinued = 1, version = @version WHERE id = @id`);
      const bump = db.prepare(`UPDATE documents SET version = @version WHERE id = @id`);
      const reindex = db.prepare(
        `INSERT OR REPLACE INTO search_index (rowid, name, description, skus, category) SELECT id, name, COALESCE(description, ''), (SELECT COALESCE(group_concat(value, ' '), '') FROM json_each(skus)), COALESCE(category, '') FROM documents WHERE id = ?`,
      );
      return (event) => {
        const { type, data: d } = event;
        const doc = find.get(d.productId) as { id: number; version: number; skus: string } | undefined;
        if (type === 'ProductCreated') {
          if (doc) return;
          const { lastInsertRowid } = insert.run(d);
          reindex.run(lastInsertRowid);
          return;
        }
        if (!doc || doc.version >= d.version) return;
        const list = JSON.parse(doc.skus) as string[];
        switch (type) {
          case 'ProductUpdated':
            details.run({ ...d, id: doc.id });
            break;
          case 'ProductVariantCreated':
            skus.run({ id: doc.id, version: d.version, skus: JSON.stringify([...list, d.sku]) });
            break;
          case 'ProductVariantDeleted':
            skus.run({ id: doc.id, version: d.version, skus: JSON.stringify(list.filter((s) => s !== d.sku)) });
            break;
          case 'ProductDiscontinued':
            discontinued.run({ id: doc.id, version: d.version });
            return;
          default:
            bump.run({ id: doc.id, version: d.version });
            return;
        }
        reindex.run(doc.id);
      };
    },
  });
}

/** A user's words as an FTS5 query: every word must match, each as a prefix. */
export function ftsQuery(text: string): string | undefined {
  const terms = text
    // Control characters separate words, as the tokenizer treats them; a NUL
    // left inside a quoted FTS5 string ends it early ("unterminated string").
    .split(/[\s\p{Cc}]+/u)
    .map((t) => t.replace(/"/g, ''))
    .filter((t) => /[\p{L}\p{N}]/u.test(t))
    .slice(0, 16);
  return terms.length ? terms.map((t) => `"${t}"*`).join(' AND ') : undefined;
}
