// Whatever the sequence of commands, a variant's stock is never oversold, its
// versions run 1..n, and what is reserved is exactly what open reservations hold.
import { expect } from 'chai';
import fc from 'fast-check';
import { inventoryDecider } from '../../services/inventory/decider/decider.ts';
import { available, type InventoryCommand, type InventoryEvent, type VariantStock } from '../../services/inventory/decider/state.ts';

const V = 'v';
const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const command: fc.Arbitrary<InventoryCommand> = fc.oneof(
  fc
    .record({ reservationId: ids, quantity: fc.integer({ min: 0, max: 12 }), ttlSeconds: fc.option(fc.integer({ min: 1, max: 100 })) })
    .map((d): InventoryCommand => ({ type: 'ReserveStock', data: { productVariantId: V, orderId: null, ...d } })),
  ids.map((reservationId): InventoryCommand => ({ type: 'ReleaseReservation', data: { productVariantId: V, reservationId, reason: null } })),
  fc
    .record({
      changeType: fc.constantFrom('RESTOCK', 'SALE', 'RETURN', 'ADJUSTMENT', 'DAMAGE' as const),
      quantity: fc.integer({ min: -10, max: 15 }),
      reservationId: fc.option(ids),
    })
    .map((d): InventoryCommand => ({ type: 'AdjustStock', data: { productVariantId: V, orderId: null, reason: null, ...d } })),
  fc.integer({ min: 0, max: 200 }).map((s): InventoryCommand => ({ type: 'ExpireReservations', data: { productVariantId: V, asOf: s * 1000 } })),
  fc.constant<InventoryCommand>({ type: 'DiscontinueVariant', data: { productVariantId: V } }),
  fc.constant<InventoryCommand>({ type: 'RetireVariant', data: { productVariantId: V } }),
);

function run(initial: number | null, commands: InventoryCommand[]) {
  let state: VariantStock = inventoryDecider.initialState;
  const events: InventoryEvent[] = [];
  const init: InventoryCommand = { type: 'InitializeInventory', data: { productVariantId: V, productId: 'p', sku: 's', initialStock: initial, lowStockThreshold: 3 } };
  [init, ...commands].forEach((cmd, i) => {
    const before = state;
    const decision = inventoryDecider.decide(state, cmd, { now: i * 1000 });
    if (decision.outcome !== 'accepted') return;
    for (const event of decision.events) {
      state = inventoryDecider.evolve(state, event);
      events.push(event);
    }
    const s = state;
    expect(s.reserved, 'reserved').to.be.at.least(0);
    expect(available(s), `oversold after ${cmd.type}`).to.be.at.least(0);
    expect(s.reserved, 'reserved = open reservations').to.equal([...s.open.values()].reduce((n, r) => n + r.units, 0));
    if (cmd.type === 'ReserveStock' && before.outcomes.has(cmd.data.reservationId)) expect(s).to.equal(before);
  });
  return events;
}

describe('inventory invariants (property-based)', () => {
  it('never oversells, whatever the commands', () => {
    fc.assert(
      fc.property(fc.option(fc.integer({ min: 0, max: 30 })), fc.array(command, { maxLength: 60 }), (initial, commands) => {
        run(initial, commands);
      }),
      { numRuns: 500 },
    );
  });

  it("numbers the variant's events 1..n with no gap and no repeat", () => {
    fc.assert(
      fc.property(fc.option(fc.integer({ min: 0, max: 30 })), fc.array(command, { maxLength: 60 }), (initial, commands) => {
        const versions = run(initial, commands).flatMap((e) => ('version' in e.data ? [e.data.version] : []));
        expect(versions).to.deep.equal(versions.map((_, i) => i + 1));
      }),
      { numRuns: 300 },
    );
  });
});
