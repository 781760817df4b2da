// The catalogue search takes any text a user types: whatever it holds (FTS5
// operators, quotes, control characters, NUL), it answers, never throws.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import type { ProjectedEvent } from '../../services/platform/projections/projection.ts';
import { openDatabase } from '../../services/platform/projections/store.ts';
import { topicsFor } from '../../services/topics.ts';
import { catalogueQueries } from '../../services/product/http/queries.ts';
import { searchProjection } from '../../services/product/projections/search.ts';

const created = (productId: string, name: string, category: string, offset: number): ProjectedEvent => ({
  topic: 'product.events',
  type: 'ProductCreated',
  data: { productId, name, description: `the ${name}`, category, version: 1 },
  partition: 0,
  offset: BigInt(offset),
  key: productId,
  meta: { id: `e${offset}`, type: 'ProductCreated', source: 'test', time: 0, correlationId: '' },
});

describe('catalogue search', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'search-'));
  const projection = searchProjection(topicsFor('t.'));
  const db = openDatabase(path.join(dir, 'search.sqlite'), projection);
  const apply = projection.handler(db);
  apply(created('p1', 'Trail Running Shoe', 'Shoes', 0));
  apply(created('p2', 'Rain Jacket', 'Outerwear', 1));
  after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const search = (text: string, category?: string) => catalogueQueries.search(db, text, category, 10);

  it('finds by word prefix, every word having to match', () => {
    expect(search('run sho')).to.deep.equal(['p1']);
    expect(search('rain shoe')).to.deep.equal([]);
    expect(search('jacket', 'outerwear')).to.deep.equal(['p2']);
  });

  it('treats control characters, NUL included, as word separators', () => {
    expect(search('trail\u0000running')).to.deep.equal(['p1']);
    expect(search('rain\u0007')).to.deep.equal(['p2']);
    expect(search('\u0000')).to.deep.equal([]);
  });

  it('takes FTS5 syntax as plain words', () => {
    for (const text of ['"', 'shoe OR', 'NOT rain', 'NEAR(a b)', 'name:rain', '^rain', '(rain', 'rain*', '-', '+rain', '{name}: x']) {
      expect(() => search(text), text).not.to.throw();
    }
    expect(search('rain*')).to.deep.equal(['p2']);
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), fc.option(fc.string({ unit: 'binary', maxLength: 16 }), { nil: undefined }), (text, category) => {
        expect(search(text, category)).to.be.an('array');
      }),
      { numRuns: 2000 },
    );
  });
});
