// Dead letters on the real broker: poison on every topic the services consume
// goes to its dead-letter topic with the cause while good messages still flow;
// a handler that keeps failing gives up after bounded retries; and an operator
// re-drives letters with `npm run dlq`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { headerText, newId, toHeaders } from '../../services/platform/headers.ts';
import { createLogger } from '../../services/platform/logger.ts';
import { partitionOf } from '../../services/platform/kafka/partitioning.ts';
import { DLQ_HEADER } from '../../services/platform/processing/dead-letters.ts';
import { createTranslator } from '../../services/platform/processing/translator.ts';
import { createProjectionRunner } from '../../services/platform/projections/runner.ts';
import type { Projection } from '../../services/platform/projections/projection.ts';
import { subjectName, topicSchemas } from '../../services/platform/schemas/catalog.ts';
import { createCodec, type Codec } from '../../services/platform/schemas/codec.ts';
import type { TopicDescriptor } from '../../services/platform/topics.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call } from '../support/http.ts';
import { kafkaFor, readTopic, type ReadMessage } from '../support/kafka.ts';
import { createSellable, placeOrder, settle, startSystem, stock, type System } from '../support/system.ts';

const quiet = createLogger('test', 'silent');

/** Three kinds of poison: not the wire format, a schema id nobody registered, Avro cut short. */
async function poisonFor(env: TestEnvironment, topic: TopicDescriptor): Promise<{ kind: string; value: Buffer }[]> {
  const record = topicSchemas(topic.baseName).records[0]!;
  const subject = subjectName(topic.name, record);
  const latest = (await (await fetch(`${env.config.schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}/versions/latest`)).json()) as { id: number };
  const header = (id: number) => {
    const bytes = Buffer.alloc(5); // magic byte 0, then the schema id
    bytes.writeInt32BE(id, 1);
    return bytes;
  };
  return [
    { kind: 'bad magic byte', value: Buffer.from('{"not":"avro"}') },
    { kind: 'unknown schema id', value: Buffer.concat([header(2_000_000_000), Buffer.from([2, 65])]) },
    { kind: 'truncated', value: Buffer.concat([header(latest.id), Buffer.from([40, 65])]) },
  ];
}

function letterFor(letters: ReadMessage[], topic: string, partition: number, offset: string, consumer?: string) {
  return letters.find(
    (l) =>
      headerText(l.headers, DLQ_HEADER.topic) === topic &&
      headerText(l.headers, DLQ_HEADER.partition) === String(partition) &&
      headerText(l.headers, DLQ_HEADER.offset) === offset &&
      (consumer === undefined || headerText(l.headers, DLQ_HEADER.consumer) === consumer),
  );
}

describe('dead letters (real broker, three services)', function () {
  this.timeout(240_000);
  let env: TestEnvironment;
  let system: System;
  let codec: Codec;

  before(async () => {
    env = await provision('dlq');
    system = await startSystem(env.prefix);
    codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [env.topics.inventoryCommands, env.topics.productEvents] });
  });
  after(async () => {
    await system?.stop();
    await env.close();
  });

  it('sends poison on every consumed topic to its dead-letter topic, with the cause, while good messages flow', async () => {
    const p = env.prefix;
    const t = env.topics;
    // Who consumes each topic, by the consumer name its letters carry.
    const consumers: [TopicDescriptor, string[]][] = [
      [t.productCommands, [`${p}product-processor`]],
      [t.inventoryCommands, [`${p}inventory-processor`]],
      [t.orderCommands, [`${p}order-processor`]],
      [t.productEvents, [`${p}inventory-catalogue-translator`, `${p}order-discontinuation-flagger`, 'product-read-models', 'order-read-models']],
      [t.inventoryEvents, ['inventory-read-models', 'product-read-models']],
      [t.orderEvents, ['order-read-models']],
      [t.productDetailsRequests, [`${p}product-details-responder`]],
    ];
    const producer = kafkaFor(env.config).producer();
    await producer.connect();
    const sent: { topic: TopicDescriptor; partition: number; offset: string; kind: string; expected: string[] }[] = [];
    try {
      for (const [topic, expected] of consumers) {
        // Every partition, so good messages behind the poison prove the consumer went on.
        for (let partition = 0; partition < topic.partitions; partition++) {
          for (const { kind, value } of await poisonFor(env, topic)) {
            const [meta] = await producer.send({
              topic: topic.name,
              acks: -1,
              messages: [{ key: `poison-${partition}`, value, partition, headers: toHeaders({ id: newId(), type: 'poison', source: 'test', time: Date.now(), correlationId: newId() }) }],
            });
            sent.push({ topic, partition, offset: meta!.baseOffset!, kind, expected });
          }
        }
      }
    } finally {
      await producer.disconnect();
    }

    // Good traffic after the poison, through every service.
    const { variantIds } = await createSellable(system, 'After poison', [{ sku: 'AP-1', price: 10, initialStock: 5 }]);
    const order = await placeOrder(system, 'c-1', [{ variantId: variantIds[0]!, quantity: 2 }]);
    expect(order.status, JSON.stringify(order.body)).to.be.oneOf([201, 202]);
    expect((await settle(system, order.body.orderId)).status).to.equal('CONFIRMED');
    expect((await stock(system, variantIds[0]!)).reservedQuantity).to.equal(2);

    for (const [topic, expected] of consumers) {
      const mine = sent.filter((s) => s.topic === topic);
      const letters = await readTopic(env.config, `${topic.name}.dlq`, (ls) => mine.every((s) => expected.every((c) => letterFor(ls, topic.name, s.partition, s.offset, c))), 90_000);
      for (const s of mine) {
        const letter = letterFor(letters, topic.name, s.partition, s.offset)!;
        const reason = headerText(letter.headers, DLQ_HEADER.reason)!;
        expect(reason, `${topic.baseName} ${s.kind}`).to.match(/^undecodable: /);
        expect(reason).to.match(s.kind === 'bad magic byte' ? /magic byte/ : s.kind === 'unknown schema id' ? /unknown schema id 2000000000/ : /cannot be decoded/);
        // Byte for byte what was sent.
        expect(letter.key).to.equal(`poison-${s.partition}`);
      }
    }

    const metrics = (await call(system.inventory.base, 'GET', '/metrics')).body as string;
    const dlqCount = new RegExp(`dead_letters_total\\{topic="${p.replace(/\./g, '\\.')}inventory\\.commands\\.dlq",handler="processor:inventory",service="inventory"\\} 18`);
    expect(metrics).to.match(dlqCount);
  });

  it('dead-letters an event whose translation keeps failing, after bounded retries, and goes on', async () => {
    const translated: string[] = [];
    const translator = createTranslator({
      kafka: kafkaFor(env.config, 'cursed-translator'),
      codec,
      name: 'cursed',
      source: 'test',
      groupId: `${env.prefix}cursed-translator`,
      from: env.topics.productEvents,
      translate: (event) => {
        const name = (event.data as { name?: string }).name ?? '';
        if (name.includes('Cursed')) throw new Error(`cannot translate ${name}`);
        if (event.type === 'ProductCreated') translated.push(name);
        return [];
      },
      logger: quiet,
    });
    await translator.start();
    try {
      await createSellable(system, 'Cursed lamp', [{ sku: 'CL-1', price: 10 }]);
      await createSellable(system, 'Blessed lamp', [{ sku: 'BL-1', price: 10 }]);
      await eventually(() => expect(translated).to.include('Blessed lamp'), 60_000);
      // (It also dead-letters the poison the first test left on the topic.)
      const mine = (l: ReadMessage) =>
        headerText(l.headers, DLQ_HEADER.consumer) === `${env.prefix}cursed-translator` && headerText(l.headers, DLQ_HEADER.reason) === 'translation kept failing after 5 attempts';
      const letters = await readTopic(env.config, `${env.topics.productEvents.name}.dlq`, (ls) => ls.some(mine));
      expect(letters.filter(mine)).to.have.length(1);
    } finally {
      await translator.stop();
    }
  });

  it('dead-letters an event a projection keeps failing on, after bounded retries, and goes on', async () => {
    const fragile: Projection = {
      name: 'fragile',
      version: 1,
      topics: [env.topics.productEvents],
      migrate: (db) => db.exec('CREATE TABLE names (name TEXT PRIMARY KEY)'),
      handler: (db) => {
        const insert = db.prepare('INSERT OR IGNORE INTO names (name) VALUES (?)');
        return (event) => {
          if (event.type !== 'ProductCreated') return;
          const name = String(event.data.name);
          if (name.includes('Haunted')) throw new Error(`refusing ${name}`);
          insert.run(name);
        };
      },
    };
    const runner = createProjectionRunner({
      kafka: kafkaFor(env.config, 'fragile'),
      codec,
      service: 'fragile-test',
      topicPrefix: env.prefix,
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'fragile-')),
      projections: [fragile],
      logger: quiet,
    });
    await runner.start();
    try {
      await createSellable(system, 'Haunted chair', [{ sku: 'HC-1', price: 10 }]);
      await createSellable(system, 'Sturdy chair', [{ sku: 'SC-1', price: 10 }]);
      await eventually(() => expect(runner.db('fragile').prepare("SELECT name FROM names WHERE name = 'Sturdy chair'").get()).to.not.equal(undefined), 60_000);
      const mine = (l: ReadMessage) =>
        headerText(l.headers, DLQ_HEADER.consumer) === 'fragile-test-read-models' && headerText(l.headers, DLQ_HEADER.reason) === 'projection fragile kept failing: refusing Haunted chair';
      const letters = await readTopic(env.config, `${env.topics.productEvents.name}.dlq`, (ls) => ls.some(mine));
      expect(letters.filter(mine)).to.have.length(1);
    } finally {
      await runner.stop();
    }
  });

  it('replays a dead-lettered command with `npm run dlq -- replay`, and it is handled', async () => {
    const { variantIds } = await createSellable(system, 'Replayable', [{ sku: 'RP-1', price: 10, initialStock: 10 }]);
    const variant = variantIds[0]!;
    const topic = env.topics.inventoryCommands;
    // A client that used another partitioner: the command lands on a partition its key does not map to.
    const wrong = (partitionOf(variant, topic.partitions) + 1) % topic.partitions;
    const reservationId = `replayed-${newId()}`;
    const value = codec.encode(topic, { type: 'ReserveStock', data: { productVariantId: variant, reservationId, orderId: null, quantity: 3, ttlSeconds: null } });
    const producer = kafkaFor(env.config).producer();
    await producer.connect();
    await producer.send({
      topic: topic.name,
      acks: -1,
      messages: [
        { key: variant, value, partition: wrong, headers: toHeaders({ id: newId(), type: codec.fullName(topic, 'ReserveStock'), source: 'test', time: Date.now(), correlationId: 'replay-story' }) },
      ],
    });
    await producer.disconnect();
    await readTopic(env.config, `${topic.name}.dlq`, (ls) => ls.some((l) => /belongs to partition/.test(headerText(l.headers, DLQ_HEADER.reason) ?? '')));
    expect((await stock(system, variant)).reservedQuantity).to.equal(0);

    const dlq = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', ...args], { encoding: 'utf8', env: { ...process.env, TOPIC_PREFIX: env.prefix, LOG_LEVEL: 'error' } });
    const listed = dlq('list');
    expect(listed.status, listed.stderr).to.equal(0);
    expect(listed.stdout, listed.stdout).to.match(new RegExp(`${env.prefix.replace(/\./g, '\\.')}inventory\\.commands\\.dlq\\s+19 letters\\s+19 not replayed`));
    const shown = dlq('list', 'inventory.commands');
    expect(shown.stdout).to.match(/belongs to partition/);

    const dry = dlq('replay', 'inventory.commands', '--dry-run');
    expect(dry.status, dry.stderr).to.equal(0);
    expect(dry.stdout).to.match(/would replay 1 letter\(s\) into .*inventory\.commands; left 18/);

    const replay = dlq('replay', 'inventory.commands');
    expect(replay.status, replay.stderr).to.equal(0);
    expect(replay.stdout).to.match(/replayed 1 letter\(s\) into .*inventory\.commands; left 18/);
    await eventually(async () => expect((await stock(system, variant)).reservedQuantity).to.equal(3), 30_000);
    const reservation = await call(system.inventory.base, 'GET', `/api/v1/inventory/${variant}/reservations/${reservationId}`);
    expect(reservation.status, JSON.stringify(reservation.body)).to.equal(200);

    // Replayed once only: a second replay finds nothing new.
    const again = dlq('replay', 'inventory.commands');
    expect(again.stdout).to.match(/replayed 0 letter\(s\)/);
    expect(dlq('list').stdout).to.match(/inventory\.commands\.dlq\s+19 letters\s+0 not replayed/);

    const usage = dlq('replay', 'product.details.replies');
    expect(usage.status).to.equal(2);
    expect(usage.stderr).to.match(/^dlq: 'product\.details\.replies' has no dead-letter topic/);
  });
});
