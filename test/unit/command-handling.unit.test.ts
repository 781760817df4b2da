// Deciding a chunk of consumed commands without Kafka: the inventory aggregate
// as the services define it, a partition store seeded with given events, and
// a codec that writes JSON in place of Avro. Given events / when messages /
// then the records the chunk's transaction would write and what was decided.
import { expect } from 'chai';
import type { KafkaMessage } from 'kafkajs';
import { inventoryAggregate } from '../../services/inventory/aggregate.ts';
import { inventoryDecider } from '../../services/inventory/decider/decider.ts';
import type { InventoryCommand, InventoryEvent, VariantStock } from '../../services/inventory/decider/state.ts';
import { fold } from '../../services/platform/decider.ts';
import { HEADER, headerText, toHeaders } from '../../services/platform/headers.ts';
import { partitionOf } from '../../services/platform/kafka/partitioning.ts';
import { createLogger } from '../../services/platform/logger.ts';
import type { AggregateDefinition, Message } from '../../services/platform/processing/aggregate-definition.ts';
import { DLQ_HEADER } from '../../services/platform/processing/dead-letters.ts';
import { decideCommands, type CommandCodec, type DecidedChunk } from '../../services/platform/processing/decide-commands.ts';
import type { OutboundRecord } from '../../services/platform/processing/outbound-record.ts';
import { DecodeError } from '../../services/platform/schemas/codec.ts';
import { deadLetterTopicName, type RecordMap, type TopicDescriptor } from '../../services/platform/topics.ts';
import { topicsFor } from '../../services/topics.ts';
import { NOW } from '../support/decider-table.ts';

const topics = topicsFor('t.');
const inventory = inventoryAggregate(topics);
const V = 'v-1';
const PARTITION = partitionOf(V, topics.inventoryCommands.partitions);
const GROUP = 'inventory-processor';
/** The wall clock while deciding: a quarter of a second after the commands were issued. */
const CLOCK = NOW + 250;
const logger = createLogger('command-handling-test', 'silent');

// A codec writing JSON: what it encoded decodes back. Bytes that are no JSON
// message are poison; bytes marked UNSEEN carry a writer schema not yet in
// hand, which the registry resolves, or fails to while it is away.
const UNSEEN = 'unseen:';

function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string' && 'data' in value && typeof value.data === 'object' && value.data !== null;
}

function parse(bytes: string): Message {
  let value: unknown;
  try {
    value = JSON.parse(bytes);
  } catch {
    value = undefined;
  }
  if (!isMessage(value)) throw new DecodeError(`bad magic byte ${bytes.charCodeAt(0)}: not the Confluent wire format`, true);
  return value;
}

function jsonCodec(registry: 'up' | 'away' = 'up'): CommandCodec {
  const fullName = (topic: TopicDescriptor, type: string) => `${topic.baseName}/${type}`;
  const decoded = (topic: TopicDescriptor<RecordMap>, bytes: string) => {
    const message = parse(bytes);
    return { message, schemaId: 1, fullName: fullName(topic, message.type) };
  };
  return {
    encode: (_topic, message) => Buffer.from(JSON.stringify(message)),
    fullName,
    decodeKnown: (topic, value) => {
      const bytes = value?.toString() ?? '';
      return bytes.startsWith(UNSEEN) ? undefined : decoded(topic, bytes);
    },
    decode: (topic, value) => {
      if (registry === 'away') return Promise.reject(new DecodeError('schema registry unreachable while resolving schema id 7: connect ECONNREFUSED', false));
      return Promise.resolve(decoded(topic, (value?.toString() ?? '').slice(UNSEEN.length)));
    },
  };
}

/** The message a record carries, as the fake codec wrote it. */
const read = (record: OutboundRecord): Message => parse(record.value?.toString() ?? '');
const header = (record: OutboundRecord, name: string) => headerText(record.headers, name);

// Commands, as consumed from the inventory commands partition.
let offset = 0;
function consumed(command: InventoryCommand, options: { id?: string; key?: string; value?: Buffer } = {}): KafkaMessage {
  const id = options.id ?? `cmd-${offset}`;
  return {
    key: Buffer.from(options.key ?? command.data.productVariantId),
    value: options.value ?? Buffer.from(JSON.stringify(command)),
    timestamp: String(NOW - 1000),
    attributes: 0,
    offset: String(offset++),
    headers: toHeaders({ id, type: `commerce.inventory.${command.type}`, source: 'test', time: NOW, correlationId: `corr-${id}` }),
  };
}
const reserve = (reservationId: string, quantity: number, orderId: string | null = null): InventoryCommand => ({
  type: 'ReserveStock',
  data: { productVariantId: V, reservationId, orderId, quantity, ttlSeconds: null },
});

const stocked20: InventoryEvent[] = [
  {
    type: 'InventoryRecordInitialized',
    data: {
      productVariantId: V,
      version: 1,
      occurredAt: NOW - 60_000,
      productId: 'p-1',
      sku: 'SKU-1',
      lowStockThreshold: 5,
      quantity: 20,
      reservedQuantity: 0,
      availableQuantity: 20,
      status: 'IN_STOCK',
    },
  },
];

interface Scenario {
  given: InventoryEvent[];
  when: KafkaMessage[];
  definition?: AggregateDefinition<VariantStock, InventoryCommand, InventoryEvent>;
  codec?: CommandCodec;
  partition?: number;
}

function store(given: InventoryEvent[]) {
  const aggregates = new Map<string, VariantStock>();
  if (given.length) aggregates.set(V, fold(inventoryDecider, inventoryDecider.initialState, given));
  return { aggregates, owners: new Map<string, string>(), eventsOffset: BigInt(given.length) };
}

async function decide(s: Scenario): Promise<DecidedChunk<VariantStock> & { store: ReturnType<typeof store> }> {
  const seeded = store(s.given);
  const chunk = await decideCommands({
    definition: s.definition ?? inventory,
    codec: s.codec ?? jsonCodec(),
    store: seeded,
    partition: s.partition ?? PARTITION,
    messages: s.when,
    groupId: GROUP,
    logger,
    clock: () => CLOCK,
  });
  return { ...chunk, store: seeded };
}

const onTopic = (records: OutboundRecord[], topic: TopicDescriptor | string) => records.filter((r) => r.topic === (typeof topic === 'string' ? topic : topic.name));

describe('deciding a chunk of commands', () => {
  it('writes an accepted command as its events: versions contiguous after the given ones, each caused by the command, in its correlation', async () => {
    const command = consumed(reserve('r-1', 16), { id: 'cmd-accept' });
    const result = await decide({ given: stocked20, when: [command] });

    const written = onTopic(result.records, topics.inventoryEvents);
    expect(result.records).to.have.length(3);
    expect(written.map(read).map((e) => e.type)).to.deep.equal(['StockReserved', 'StockStatusChanged', 'LowStockThresholdReached']);
    expect(written.map((r) => (read(r).data as { version: number }).version)).to.deep.equal([2, 3, 4]);
    for (const [index, record] of written.entries()) {
      expect(record).to.include({ topic: 't.inventory.events', partition: PARTITION, key: V });
      expect(header(record, HEADER.causationId)).to.equal('cmd-accept');
      expect(header(record, HEADER.correlationId)).to.equal('corr-cmd-accept');
      expect(header(record, HEADER.source)).to.equal('inventory');
      expect(header(record, HEADER.time)).to.equal(new Date(NOW).toISOString());
      expect(header(record, HEADER.type)).to.equal(`inventory.events/${read(record).type}`);
      expect([header(record, HEADER.outcomeIndex), header(record, HEADER.outcomeCount)]).to.deep.equal([String(index), '3']);
    }
    expect(new Set(written.map((r) => header(r, HEADER.id))).size).to.equal(3);

    expect(result.decided).to.deep.equal([
      { type: 'ReserveStock', outcome: 'accepted', events: written.map(read), latencyMs: 250, aggregateId: V, commandId: 'cmd-accept', correlationId: 'corr-cmd-accept' },
    ]);
    expect(result.eventsWritten).to.equal(3);
    expect(result.states.get(V)).to.include({ version: 4, reserved: 16, status: 'LOW_STOCK' });
    expect(result.store.aggregates.get(V)).to.include({ version: 1, reserved: 0 }, 'the store changes only when the transaction commits');
  });

  it("sends a reaction's command to the other aggregate in the same records, caused by the first event", async () => {
    const result = await decide({ given: stocked20, when: [consumed(reserve('r-1', 2, 'o-1'), { id: 'cmd-order' })] });

    const [event] = onTopic(result.records, topics.inventoryEvents);
    const [answer, ...more] = onTopic(result.records, topics.orderCommands);
    expect(more).to.deep.equal([]);
    expect(answer).to.include({ topic: 't.order.commands', key: 'o-1' });
    expect(read(answer!)).to.deep.equal({
      type: 'RecordReservationOutcome',
      data: { orderId: 'o-1', variantId: V, reservationId: 'r-1', outcome: 'RESERVED', availableQuantity: 18 },
    });
    expect(header(answer!, HEADER.causationId)).to.equal(header(event!, HEADER.id));
    expect(header(answer!, HEADER.correlationId)).to.equal('corr-cmd-order');
    expect(header(answer!, HEADER.type)).to.equal('order.commands/RecordReservationOutcome');
    expect(result.eventsWritten).to.equal(1, 'a reaction is not an event of this aggregate');
  });

  it('answers a rejected command with CommandRejected and leaves the state alone', async () => {
    const result = await decide({ given: stocked20, when: [consumed(reserve('r-1', 0), { id: 'cmd-zero' })] });

    expect(result.records).to.have.length(1);
    const [record] = result.records;
    expect(record).to.include({ topic: 't.inventory.events', partition: PARTITION, key: V });
    expect(read(record!)).to.deep.equal({
      type: 'CommandRejected',
      data: { aggregateId: V, commandType: 'ReserveStock', code: 'INVALID_QUANTITY', message: 'quantity must be at least 1, got 0', occurredAt: NOW },
    });
    expect(header(record!, HEADER.causationId)).to.equal('cmd-zero');
    expect([header(record!, HEADER.outcomeIndex), header(record!, HEADER.outcomeCount)]).to.deep.equal(['0', '1']);
    expect(result.decided.map((d) => [d.outcome, d.commandId])).to.deep.equal([['rejected', 'cmd-zero']]);
    expect(result.eventsWritten).to.equal(1);
    expect(result.states.size).to.equal(0);
  });

  it('answers a repeated command as unchanged, with no second effect, also within one chunk', async () => {
    const again = reserve('r-1', 5);
    const result = await decide({ given: stocked20, when: [consumed(again, { id: 'cmd-r1' }), consumed(again, { id: 'cmd-r1' })] });

    expect(result.records.map(read).map((m) => m.type)).to.deep.equal(['StockReserved', 'CommandUnchanged']);
    expect(read(result.records[1]!)).to.deep.equal({
      type: 'CommandUnchanged',
      data: { aggregateId: V, commandType: 'ReserveStock', reason: 'ALREADY_APPLIED', message: 'reservation r-1 was already decided', occurredAt: NOW },
    });
    expect(header(result.records[1]!, HEADER.causationId)).to.equal('cmd-r1');
    expect(result.decided.map((d) => d.outcome)).to.deep.equal(['accepted', 'unchanged']);
    expect(result.states.get(V)).to.include({ version: 2, reserved: 5 });
  });

  it('answers a command the store already reflects as unchanged', async () => {
    const given: InventoryEvent[] = [
      ...stocked20,
      {
        type: 'StockReserved',
        data: {
          productVariantId: V,
          version: 2,
          occurredAt: NOW - 1000,
          reservationId: 'r-1',
          orderId: null,
          reservedUnits: 5,
          expiresAt: NOW + 900_000,
          quantity: 20,
          reservedQuantity: 5,
          availableQuantity: 15,
        },
      },
    ];
    const result = await decide({ given, when: [consumed(reserve('r-1', 5))] });

    expect(result.records.map(read).map((m) => m.type)).to.deep.equal(['CommandUnchanged']);
    expect(result.decided.map((d) => d.outcome)).to.deep.equal(['unchanged']);
    expect(result.states.size).to.equal(0);
  });

  it('dead-letters an undecodable command byte for byte with its cause, and decides the rest of the chunk', async () => {
    const poison = consumed(reserve('r-1', 1), { id: 'cmd-poison', value: Buffer.from('{not avro') });
    const result = await decide({ given: stocked20, when: [poison, consumed(reserve('r-2', 3), { id: 'cmd-after' })] });

    const [dead, ...moreDead] = onTopic(result.records, deadLetterTopicName(topics.inventoryCommands.name));
    expect(moreDead).to.deep.equal([]);
    expect(dead).to.deep.include({ topic: 't.inventory.commands.dlq', key: V, value: poison.value });
    expect(header(dead!, DLQ_HEADER.reason)).to.equal('undecodable: bad magic byte 123: not the Confluent wire format');
    expect(header(dead!, DLQ_HEADER.topic)).to.equal('t.inventory.commands');
    expect(header(dead!, DLQ_HEADER.partition)).to.equal(String(PARTITION));
    expect(header(dead!, DLQ_HEADER.offset)).to.equal(poison.offset);
    expect(header(dead!, DLQ_HEADER.consumer)).to.equal(GROUP);
    expect(header(dead!, DLQ_HEADER.time)).to.equal(new Date(CLOCK).toISOString());
    expect(header(dead!, HEADER.id)).to.equal('cmd-poison', "the command's own headers go with it");

    expect(
      onTopic(result.records, topics.inventoryEvents)
        .map(read)
        .map((e) => e.type),
    ).to.deep.equal(['StockReserved']);
    expect(result.decided.map((d) => [d.type, d.outcome, d.commandId])).to.deep.equal([
      ['unknown', 'dead-lettered', 'cmd-poison'],
      ['ReserveStock', 'accepted', 'cmd-after'],
    ]);
    expect(result.decided[0]).to.include({ latencyMs: 0, correlationId: 'corr-cmd-poison' });
    expect(result.eventsWritten).to.equal(1);
  });

  it('dead-letters a command whose key or partition is not its aggregate id', async () => {
    const wrongKey = await decide({ given: stocked20, when: [consumed(reserve('r-1', 1), { key: 'v-2' })] });
    expect(wrongKey.records.map((r) => [r.topic, header(r, DLQ_HEADER.reason)])).to.deep.equal([['t.inventory.commands.dlq', "message key 'v-2' does not match productVariantId 'v-1'"]]);

    const elsewhere = (PARTITION + 1) % topics.inventoryCommands.partitions;
    const wrongPartition = await decide({ given: stocked20, when: [consumed(reserve('r-1', 1))], partition: elsewhere });
    expect(wrongPartition.records.map((r) => [r.topic, header(r, DLQ_HEADER.reason)])).to.deep.equal([
      ['t.inventory.commands.dlq', `key 'v-1' belongs to partition ${PARTITION}, found in ${elsewhere}: produced with another partitioner`],
    ]);
    expect([...wrongKey.decided, ...wrongPartition.decided].map((d) => d.outcome)).to.deep.equal(['dead-lettered', 'dead-lettered']);
  });

  it('dead-letters a command its decider throws on, named by its type', async () => {
    const throwing: AggregateDefinition<VariantStock, InventoryCommand, InventoryEvent> = {
      ...inventory,
      decider: {
        ...inventoryDecider,
        decide: () => {
          throw new Error('no rule for this');
        },
      },
    };
    const result = await decide({ given: stocked20, when: [consumed(reserve('r-1', 1))], definition: throwing });

    expect(result.records.map((r) => [r.topic, header(r, DLQ_HEADER.reason)])).to.deep.equal([['t.inventory.commands.dlq', 'ReserveStock could not be decided: no rule for this']]);
    expect(result.decided.map((d) => [d.type, d.outcome])).to.deep.equal([['ReserveStock', 'dead-lettered']]);
  });

  it('decodes a command whose writer schema is not yet in hand through the registry', async () => {
    const unseen = consumed(reserve('r-1', 1), { value: Buffer.from(UNSEEN + JSON.stringify(reserve('r-1', 1))) });
    const result = await decide({ given: stocked20, when: [unseen] });
    expect(result.decided.map((d) => d.outcome)).to.deep.equal(['accepted']);
  });

  it('throws while the registry is away, dead-lettering nothing, so the whole chunk is retried', async () => {
    const unseen = consumed(reserve('r-2', 1), { value: Buffer.from(UNSEEN + JSON.stringify(reserve('r-2', 1))) });
    const seeded = store(stocked20);
    let thrown: unknown;
    await decideCommands({
      definition: inventory,
      codec: jsonCodec('away'),
      store: seeded,
      partition: PARTITION,
      messages: [consumed(reserve('r-1', 1)), unseen],
      groupId: GROUP,
      logger,
    }).catch((error: unknown) => (thrown = error));

    expect(thrown).to.be.instanceOf(DecodeError);
    expect(thrown).to.include({ permanent: false });
    expect(seeded.aggregates.get(V)).to.include({ version: 1, reserved: 0 });
  });
});
