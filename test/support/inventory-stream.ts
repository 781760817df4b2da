// A mixed stream of inventory commands for crash and shutdown tests, and the
// check that every command sent got exactly one outcome and nothing oversold.
import { expect } from 'chai';
import { createCommandSender, type CommandSender, type SentCommand } from '../../services/platform/messaging/command-sender.ts';
import { createCodec, type Codec } from '../../services/platform/schemas/codec.ts';
import type { InventoryCommands } from '../../schemas/generated/inventory.commands.ts';
import type { InventoryEvents } from '../../schemas/generated/inventory.events.ts';
import type { TopicMessage } from '../../services/platform/topics.ts';
import { startChild, type ChildService } from './child-service.ts';
import { provision, type TestEnvironment } from './environment.ts';
import type { Recorded } from './events.ts';
import { kafkaFor } from './kafka.ts';

export type Command = TopicMessage<InventoryCommands>;
export const VARIANTS = Array.from({ length: 10 }, (_, i) => `variant-${i}`);

/** A mixed stream: reservations, and releases and sales of earlier ones. */
export function commandStream(count: number, seed: number): Command[] {
  let x = seed;
  const random = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const reservations: { variant: string; id: string; quantity: number }[] = [];
  const commands: Command[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    const earlier = reservations[Math.floor(random() * reservations.length)];
    if (roll < 0.6 || !earlier) {
      const r = { variant: VARIANTS[Math.floor(random() * VARIANTS.length)]!, id: `s${seed}-r${i}`, quantity: 1 + Math.floor(random() * 3) };
      reservations.push(r);
      commands.push({ type: 'ReserveStock', data: { productVariantId: r.variant, reservationId: r.id, orderId: null, quantity: r.quantity, ttlSeconds: 3600 } });
    } else if (roll < 0.8) {
      commands.push({ type: 'ReleaseReservation', data: { productVariantId: earlier.variant, reservationId: earlier.id, reason: 'test' } });
    } else {
      commands.push({ type: 'AdjustStock', data: { productVariantId: earlier.variant, changeType: 'SALE', quantity: earlier.quantity, orderId: null, reservationId: earlier.id, reason: null } });
    }
  }
  return commands;
}

/** Every command answered exactly once; no variant oversold; versions 1..n. */
export function verifyOutcomes(sent: SentCommand[], events: Recorded<InventoryEvents>[]): void {
  const byCause = new Map<string, Recorded<InventoryEvents>[]>();
  for (const e of events) {
    if (!e.meta.causationId) continue;
    byCause.set(e.meta.causationId, [...(byCause.get(e.meta.causationId) ?? []), e]);
  }
  const problems: string[] = [];
  for (const { commandId } of sent) {
    const outcome = byCause.get(commandId) ?? [];
    const firsts = outcome.filter((e) => e.meta.outcome?.index === 0).length;
    if (firsts !== 1) problems.push(`command ${commandId} has ${firsts} outcomes`);
    else if (outcome.length !== outcome[0]!.meta.outcome!.count) problems.push(`command ${commandId} has ${outcome.length} of ${outcome[0]!.meta.outcome!.count} outcome events`);
  }
  expect(problems.slice(0, 10), `${problems.length} problems`).to.deep.equal([]);

  for (const variant of VARIANTS) {
    const mine = events.filter((e) => e.key === variant);
    const versions = mine.flatMap((e) => ('version' in e.data ? [e.data.version] : []));
    expect(versions, `versions of ${variant}`).to.deep.equal(versions.map((_, i) => i + 1));
    for (const e of mine) {
      if ('availableQuantity' in e.data && 'reservedQuantity' in e.data) {
        expect(e.data.availableQuantity, `${variant} v${'version' in e.data ? e.data.version : '?'} oversold`).to.be.at.least(0);
      }
    }
    const decided = mine.filter((e) => e.type === 'StockReserved' || e.type === 'ReservationRejected').map((e) => (e.data as { reservationId: string }).reservationId);
    expect(new Set(decided).size, `reservations of ${variant} decided twice`).to.equal(decided.length);
  }
}

/** True once every sent command has the first event of its outcome in the log. */
export const allAnswered = (sent: SentCommand[]) => (events: Recorded<InventoryEvents>[]) => {
  const answered = new Set(events.filter((e) => e.meta.outcome?.index === 0).map((e) => e.meta.causationId));
  return sent.every((s) => answered.has(s.commandId));
};

export function initialStock(units: number): Command[] {
  return VARIANTS.map((v) => ({ type: 'InitializeInventory', data: { productVariantId: v, productId: 'p', sku: v, initialStock: units, lowStockThreshold: 5 } }));
}

export interface InventoryHarness {
  env: TestEnvironment;
  codec: Codec;
  sender: CommandSender;
  /** Starts services/inventory/main.ts as a child process; killed after the suite. */
  startInventory(name: string, env: Record<string, string>): ChildService;
}

/**
 * Registers before/after hooks giving a suite its own namespace, a command
 * sender for inventory.commands, and inventory children it cleans up.
 * The fields are filled in once the suite's before hook has run.
 */
export function useInventoryHarness(name: string): InventoryHarness {
  const children: ChildService[] = [];
  const harness = {
    startInventory(childName: string, env: Record<string, string>) {
      const child = startChild('services/inventory/main.ts', { TOPIC_PREFIX: harness.env.prefix, ...env }, childName);
      children.push(child);
      return child;
    },
  } as InventoryHarness;
  before(async () => {
    harness.env = await provision(name);
    harness.codec = await createCodec({ registryUrl: harness.env.config.schemaRegistryUrl, writes: [harness.env.topics.inventoryCommands] });
    harness.sender = createCommandSender(kafkaFor(harness.env.config), harness.codec, 'test');
    await harness.sender.connect();
  });
  after(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await harness.sender?.disconnect();
    await harness.env?.close();
  });
  return harness;
}
