// Applying a fetched batch to a projection, in an in-memory SQLite database:
// rows and checkpoint commit together, a re-read below the checkpoint changes
// nothing, and a handler that throws rolls the whole batch back and names the
// events that fail.
import { expect } from 'chai';
import { applyBatch, BatchFailed, type ProjectionHandle } from '../../services/platform/projections/apply.ts';
import { defineProjection, type ProjectedEvent } from '../../services/platform/projections/projection.ts';
import { checkpoints, openDatabase } from '../../services/platform/projections/store.ts';
import { topicsFor } from '../../services/topics.ts';

const topics = topicsFor('t.');
const topic = topics.inventoryEvents;

const reservations = defineProjection({
  name: 'reserved',
  version: 1,
  topics: [topic],
  handles: ['StockReserved'],
  migrate: (db) => db.exec('CREATE TABLE reserved (reservation_id TEXT PRIMARY KEY, units INTEGER NOT NULL)'),
  handler: (db) => {
    const insert = db.prepare('INSERT INTO reserved (reservation_id, units) VALUES (?, ?)');
    return ({ data }) => {
      if (data.reservedUnits < 0) throw new Error(`negative units in ${data.reservationId}`);
      insert.run(data.reservationId, data.reservedUnits);
    };
  },
});

function inMemory(): ProjectionHandle {
  const db = openDatabase(':memory:', reservations);
  return {
    projection: reservations,
    file: ':memory:',
    db,
    apply: reservations.handler(db),
    checkpoints: checkpoints(db),
    saveCheckpoint: db.prepare('INSERT INTO _checkpoints (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset'),
  };
}

const reserved = (offset: number, reservationId: string, reservedUnits: number): ProjectedEvent => ({
  topic: topic.baseName,
  type: 'StockReserved',
  data: { reservationId, reservedUnits },
  partition: 0,
  offset: BigInt(offset),
  key: 'v-1',
  meta: { id: `e-${offset}`, type: 'commerce.inventory.StockReserved', source: 'test', time: 0, correlationId: 'c' },
});

const rows = (h: ProjectionHandle) => h.db.prepare('SELECT reservation_id AS id, units FROM reserved ORDER BY id').all();
const storedCheckpoint = (h: ProjectionHandle) => checkpoints(h.db).get([...checkpoints(h.db).keys()][0]!);

describe('applying a batch to a projection', () => {
  it('writes its rows and moves the checkpoint in one transaction', () => {
    const h = inMemory();
    expect(applyBatch(h, topic, 0, [reserved(0, 'r-1', 2), reserved(1, 'r-2', 3)], 2n)).to.equal(2);
    expect(rows(h)).to.deep.equal([
      { id: 'r-1', units: 2 },
      { id: 'r-2', units: 3 },
    ]);
    expect(storedCheckpoint(h)).to.equal(2n);
  });

  it('skips what lies below the checkpoint, so a re-read is harmless', () => {
    const h = inMemory();
    applyBatch(h, topic, 0, [reserved(0, 'r-1', 2), reserved(1, 'r-2', 3)], 2n);
    expect(applyBatch(h, topic, 0, [reserved(0, 'r-1', 2), reserved(1, 'r-2', 3)], 2n)).to.equal(0);
    expect(applyBatch(h, topic, 0, [reserved(1, 'r-2', 3), reserved(2, 'r-3', 1)], 3n)).to.equal(1);
    expect(rows(h).map((r) => (r as { id: string }).id)).to.deep.equal(['r-1', 'r-2', 'r-3']);
  });

  it('rolls the whole batch back when a handler throws, naming the events that fail', () => {
    const h = inMemory();
    let failure: unknown;
    try {
      applyBatch(h, topic, 0, [reserved(0, 'r-1', 2), reserved(1, 'bad', -1), reserved(2, 'r-3', 1)], 3n);
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(BatchFailed);
    expect((failure as BatchFailed).failed.map((e) => e.offset)).to.deep.equal([1n]);
    expect(rows(h)).to.deep.equal([]);
    expect(checkpoints(h.db).size).to.equal(0);
  });

  it('applies the rest when the failing events are skipped (after they were dead-lettered)', () => {
    const h = inMemory();
    expect(applyBatch(h, topic, 0, [reserved(0, 'r-1', 2), reserved(1, 'bad', -1), reserved(2, 'r-3', 1)], 3n, new Set([1n]))).to.equal(2);
    expect(rows(h).map((r) => (r as { id: string }).id)).to.deep.equal(['r-1', 'r-3']);
    expect(storedCheckpoint(h)).to.equal(3n);
  });
});
