// A projection that declares the record types it handles (Projection.handles)
// lets a rebuild skip decoding the others. This checks the declaration against
// the code: for every type left out, the handler must not run a single
// statement, whatever the record holds (random valid records from avsc).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { expect } from 'chai';
import { inventoryReadModels } from '../../services/inventory/read-models.ts';
import { orderReadModels } from '../../services/order/read-models.ts';
import type { ProjectedEvent } from '../../services/platform/projections/projection.ts';
import { openDatabase } from '../../services/platform/projections/store.ts';
import { topicSchemas } from '../../services/platform/schemas/catalog.ts';
import { topicsFor } from '../../services/platform/topics.ts';
import { productReadModels } from '../../services/product/read-models.ts';

const topics = topicsFor('t.');
const projections = [...inventoryReadModels(topics), ...productReadModels(topics), ...orderReadModels(topics)];

/** The database, with every statement it prepares counting its executions. */
function counting(db: Database.Database): { db: Database.Database; calls: () => number } {
  let calls = 0;
  const wrap = (statement: Database.Statement) =>
    new Proxy(statement, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (['run', 'get', 'all', 'iterate'].includes(String(prop))) calls++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const proxy = new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql));
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: proxy, calls: () => calls };
}

describe('projections that declare the record types they handle', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handles-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const projection of projections.filter((p) => p.handles)) {
    it(`${projection.name} runs no statement for the types it leaves out`, () => {
      const { db, calls } = counting(openDatabase(path.join(dir, `${projection.name}.sqlite`), projection));
      const apply = projection.handler(db);
      let checked = 0;
      for (const topic of projection.topics) {
        for (const record of topicSchemas(topic.baseName).records) {
          if (projection.handles!.includes(record.name)) continue;
          for (let i = 0; i < 5; i++) {
            const event: ProjectedEvent = { topic: topic.baseName, type: record.name, data: { ...(record.type.random() as object) } as Record<string, unknown>, partition: 0, offset: BigInt(i), key: undefined, meta: { id: '', type: record.fullName, source: '', time: 0, correlationId: '' } };
            const before = calls();
            apply(event);
            expect(calls() - before, `${projection.name} ran a statement for ${record.name}: add it to handles`).to.equal(0);
            checked++;
          }
        }
      }
      expect(checked, 'left-out types exercised').to.be.greaterThan(0);
      for (const handled of projection.handles!) {
        expect(projection.topics.some((t) => topicSchemas(t.baseName).records.some((r) => r.name === handled)), `${handled} is a record of ${projection.name}'s topics`).to.equal(true);
      }
    });
  }
});
