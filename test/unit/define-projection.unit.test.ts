// A projection names the records it handles; the compiler checks the names
// against its topics' records and narrows each handler's event by type. Here:
// what reaches the handler at run time is exactly what it named.
import { expect } from 'chai';
import { defineProjection, type ProjectedEvent } from '../../services/platform/projections/projection.ts';
import { topicsFor } from '../../services/topics.ts';

const topics = topicsFor('t.');
const at = { topic: 'inventory.events', partition: 0, offset: 0n, key: 'v-1', meta: { id: 'e', type: 'x', source: 's', time: 0, correlationId: 'c' } };

describe('a projection defined with the records it handles', () => {
  const seen: string[] = [];
  const projection = defineProjection({
    name: 'test',
    version: 1,
    topics: [topics.inventoryEvents],
    handles: ['StockReserved', 'OutOfStock'],
    migrate() {},
    handler: () => (event) => {
      // Typed: only a StockReserved carries reservedUnits.
      seen.push(event.type === 'StockReserved' ? `${event.type}:${event.data.reservedUnits}` : event.type);
    },
  });

  it('declares them, so a rebuild decodes nothing else', () => {
    expect(projection.handles).to.deep.equal(['StockReserved', 'OutOfStock']);
  });

  it('hands its handler the events it named, and no other', () => {
    const apply = projection.handler(undefined as never);
    const events: ProjectedEvent[] = [
      { ...at, type: 'StockReserved', data: { reservedUnits: 2 } },
      { ...at, type: 'StockReleased', data: { releasedUnits: 2 } },
      { ...at, type: 'OutOfStock', data: {} },
      { ...at, type: 'CommandRejected', data: {} },
    ];
    for (const event of events) apply(event);
    expect(seen).to.deep.equal(['StockReserved:2', 'OutOfStock']);
  });
});
