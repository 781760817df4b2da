// The partitioned-by-variant reservation processor on the real broker.
import { expect } from 'chai';
import type { Kafka } from 'kafkajs';
import { inventoryAggregate } from '../../services/inventory/aggregate.ts';
import { createLogger } from '../../services/platform/logger.ts';
import { createCommandSender, type CommandSender } from '../../services/platform/messaging/command-sender.ts';
import { createCommandProcessor, processorWrites, type CommandProcessor } from '../../services/platform/processing/command-processor.ts';
import { createCodec, type Codec } from '../../services/platform/schemas/codec.ts';
import type { InventoryEvents } from '../../schemas/generated/inventory.events.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { readEvents, type Recorded } from '../support/events.ts';
import { kafkaFor } from '../support/kafka.ts';

describe('inventory command processor (real broker)', function () {
  this.timeout(180_000);
  let env: TestEnvironment;
  let codec: Codec;
  let kafka: Kafka;
  let processor: CommandProcessor;
  const senders: CommandSender[] = [];

  const sender = async () => {
    const s = createCommandSender(kafka, codec, 'test');
    await s.connect();
    senders.push(s);
    return s;
  };
  const startProcessor = async (instance: string) => {
    const p = createCommandProcessor({
      kafka: kafkaFor(env.config, `processor-${instance}`),
      codec,
      definition: inventoryAggregate(env.topics),
      groupId: `${env.prefix}inventory-processor`,
      logger: createLogger(`processor-${instance}`, 'warn'),
      scheduleEveryMs: 200,
    });
    await p.start();
    return p;
  };
  const byVariant = (events: Recorded<InventoryEvents>[], variant: string) => events.filter((e) => e.key === variant);

  before(async () => {
    env = await provision('processor');
    codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: processorWrites(inventoryAggregate(env.topics)) });
    kafka = kafkaFor(env.config);
    processor = await startProcessor('a');
  });
  after(async () => {
    await processor?.stop();
    await Promise.all(senders.map((s) => s.disconnect()));
    await env.close();
  });

  it('50 units, 500 concurrent reservations of 1 from several clients: exactly 50 succeed', async () => {
    const variant = 'race-variant';
    const init = await sender();
    await init.send(env.topics.inventoryCommands, {
      type: 'InitializeInventory',
      data: { productVariantId: variant, productId: 'p', sku: 'RACE', initialStock: 50, lowStockThreshold: 5 },
    });
    const clients = await Promise.all(Array.from({ length: 5 }, () => sender()));
    const sent = (
      await Promise.all(
        clients.map((client, c) =>
          Promise.all(
            Array.from({ length: 100 }, (_, i) =>
              client.send(env.topics.inventoryCommands, {
                type: 'ReserveStock',
                data: { productVariantId: variant, reservationId: `c${c}-r${i}`, orderId: null, quantity: 1, ttlSeconds: 3600 },
              }),
            ),
          ),
        ),
      )
    ).flat();
    const outcomeTypes = ['StockReserved', 'ReservationRejected', 'CommandRejected'];
    const events = byVariant(await readEvents(env.config, codec, env.topics.inventoryEvents, (all) => byVariant(all, variant).filter((e) => outcomeTypes.includes(e.type)).length >= 500), variant);
    const outcomes = events.filter((e) => outcomeTypes.includes(e.type));
    expect(outcomes.filter((e) => e.type === 'StockReserved')).to.have.length(50);
    expect(outcomes.filter((e) => e.type === 'ReservationRejected')).to.have.length(450);
    for (const r of outcomes.filter((e) => e.type === 'ReservationRejected')) {
      expect(r.data).to.include({ reason: 'INSUFFICIENT_STOCK', availableQuantity: 0 });
    }
    // Every command has exactly one outcome, traced by causation id.
    const causes = outcomes.map((e) => e.meta.causationId);
    expect(new Set(causes).size).to.equal(500);
    expect(new Set(causes)).to.deep.equal(new Set(sent.map((s) => s.commandId)));
    // Versions of the variant run 1..n with no gap and no repeat.
    const versions = events.flatMap((e) => ('version' in e.data ? [e.data.version] : []));
    expect(versions).to.deep.equal(versions.map((_, i) => i + 1));
    // The last word on the variant: nothing left, nothing oversold.
    const last = events.filter((e) => e.type === 'StockReserved').at(-1)!;
    expect(last.data).to.include({ quantity: 50, reservedQuantity: 50, availableQuantity: 0 });
  });

  it('expires reservations by itself and frees their stock', async () => {
    const variant = 'expiring-variant';
    const s = await sender();
    await s.send(env.topics.inventoryCommands, { type: 'InitializeInventory', data: { productVariantId: variant, productId: 'p', sku: 'EXP', initialStock: 10, lowStockThreshold: 2 } });
    await s.send(env.topics.inventoryCommands, { type: 'ReserveStock', data: { productVariantId: variant, reservationId: 'short', orderId: null, quantity: 4, ttlSeconds: 1 } });
    await s.send(env.topics.inventoryCommands, { type: 'ReserveStock', data: { productVariantId: variant, reservationId: 'long', orderId: null, quantity: 3, ttlSeconds: 3600 } });
    const events = byVariant(await readEvents(env.config, codec, env.topics.inventoryEvents, (all) => byVariant(all, variant).some((e) => e.type === 'ReservationExpired'), 30_000), variant);
    const expired = events.filter((e) => e.type === 'ReservationExpired');
    expect(expired).to.have.length(1);
    expect(expired[0]!.data).to.include({ reservationId: 'short', releasedUnits: 4, quantity: 10, reservedQuantity: 3, availableQuantity: 7 });
    expect(expired[0]!.meta.source).to.equal('inventory');
  });
});
