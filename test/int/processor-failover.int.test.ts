// Crashes and hand-overs of the reservation processor, as separate processes:
// no accepted command is lost, none takes effect twice, nothing is oversold.
import { expect } from 'chai';
import type { Admin } from 'kafkajs';
import { createCommandSender, type CommandSender, type SentCommand } from '../../services/platform/messaging/command-sender.ts';
import { createCodec, type Codec } from '../../services/platform/schemas/codec.ts';
import type { InventoryCommands } from '../../schemas/generated/inventory.commands.ts';
import type { InventoryEvents } from '../../schemas/generated/inventory.events.ts';
import type { TopicMessage } from '../../services/platform/topics.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { readEvents, type Recorded } from '../support/events.ts';
import { kafkaFor } from '../support/kafka.ts';
import { startChild, type ChildService } from '../support/child-service.ts';

type Command = TopicMessage<InventoryCommands>;
const VARIANTS = Array.from({ length: 10 }, (_, i) => `variant-${i}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A mixed stream: reservations, and releases and sales of earlier ones. */
function commandStream(count: number, seed: number): Command[] {
  let x = seed;
  const random = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
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
function verify(sent: SentCommand[], events: Recorded<InventoryEvents>[]): void {
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

describe('reservation processor under crashes and hand-overs (separate processes)', function () {
  this.timeout(300_000);
  let env: TestEnvironment;
  let codec: Codec;
  let sender: CommandSender;
  const children: ChildService[] = [];

  const startProcessor = (name: string) => {
    const child = startChild('services/inventory/main.ts', { TOPIC_PREFIX: env.prefix, SERVICE_ROLES: 'processor' }, name);
    children.push(child);
    return child;
  };
  /** True once every sent command has the first event of its outcome in the log. */
  const allAnswered = (sent: SentCommand[]) => (events: Recorded<InventoryEvents>[]) => {
    const answered = new Set(events.filter((e) => e.meta.outcome?.index === 0).map((e) => e.meta.causationId));
    return sent.every((s) => answered.has(s.commandId));
  };

  before(async () => {
    env = await provision('failover');
    codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [env.topics.inventoryCommands] });
    sender = createCommandSender(kafkaFor(env.config), codec, 'test');
    await sender.connect();
  });
  after(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await sender.disconnect();
    await env.close();
  });

  it('(c) killed with SIGKILL at random moments during a stream: every command has exactly one outcome, nothing oversold', async () => {
    const init = VARIANTS.map((v): Command => ({ type: 'InitializeInventory', data: { productVariantId: v, productId: 'p', sku: v, initialStock: 40, lowStockThreshold: 5 } }));
    const sent: SentCommand[] = await sender.sendMany(env.topics.inventoryCommands, init);
    let processor = startProcessor('crash-0');
    const stream = commandStream(1500, 7);
    let kills = 0;
    const streaming = (async () => {
      for (let i = 0; i < stream.length; i += 25) {
        sent.push(...(await sender.sendMany(env.topics.inventoryCommands, stream.slice(i, i + 25))));
        await sleep(120);
      }
    })();
    const killing = (async () => {
      for (let k = 0; k < 5; k++) {
        await sleep(1500 + Math.random() * 2000);
        await processor.kill('SIGKILL');
        kills++;
        processor = startProcessor(`crash-${k + 1}`);
      }
    })();
    await Promise.all([streaming, killing]);
    expect(kills).to.equal(5);
    const events = await readEvents(env.config, codec, env.topics.inventoryEvents, allAnswered(sent), 120_000);
    verify(sent, events);
  });

  it('(d) two instances share the partitions; when one stops, the other takes over, losing and doubling nothing', async () => {
    const admin: Admin = env.admin;
    const groupId = `${env.prefix}inventory-processor`;
    // The previous test left one processor running; add a second.
    startProcessor('second');
    const members = async () => (await admin.describeGroups([groupId])).groups[0]!.members.length;
    for (let i = 0; (await members()) < 2 && i < 100; i++) await sleep(200);
    expect(await members()).to.equal(2);

    const sent: SentCommand[] = [];
    const stream = commandStream(600, 11);
    const streaming = (async () => {
      for (let i = 0; i < stream.length; i += 20) {
        sent.push(...(await sender.sendMany(env.topics.inventoryCommands, stream.slice(i, i + 20))));
        await sleep(100);
      }
    })();
    await sleep(1200);
    const [first] = children.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    await first!.kill('SIGTERM'); // an orderly stop: it finishes its batch and leaves the group
    await streaming;
    for (let i = 0; (await members()) !== 1 && i < 100; i++) await sleep(200);
    expect(await members()).to.equal(1);

    const events = await readEvents(env.config, codec, env.topics.inventoryEvents, allAnswered(sent), 120_000);
    verify(sent, events);
  });
});
