import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { stop } from '../../scripts/embedded/processes.ts';
import { startRegistry } from '../../scripts/embedded/registry.ts';
import { fromHeaders, newId, toHeaders } from '../../services/platform/headers.ts';
import { schemaCatalog, subjectName, topicSchemas } from '../../services/platform/schemas/catalog.ts';
import { createCodec, createRegistryClient, DecodeError } from '../../services/platform/schemas/codec.ts';
import { IncompatibleSchemaError, registerAll, registerRecord } from '../../services/platform/schemas/register.ts';
import type { StockReserved } from '../../schemas/generated/inventory.events.ts';
import { isEmbedded, provision, type TestEnvironment } from '../support/environment.ts';
import { kafkaFor, readTopic } from '../support/kafka.ts';

describe('schemas on the real registry', function () {
  this.timeout(180_000);
  let env: TestEnvironment;

  before(async () => {
    env = await provision('schemas');
  });
  after(() => env.close());

  it('registers every schema under TopicRecordNameStrategy with BACKWARD_TRANSITIVE, idempotently', async () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/schemas.ts'], {
      encoding: 'utf8',
      env: { ...process.env, TOPIC_PREFIX: env.prefix },
    });
    expect(result.status, result.stderr).to.equal(0);
    const url = env.config.schemaRegistryUrl;
    const expected = schemaCatalog().flatMap((t) => t.records.map((r) => subjectName(`${env.prefix}${t.topic}`, r)));
    expect(result.stdout).to.match(new RegExp(`^schemas: ${expected.length} subjects registered`));
    for (const subject of expected) {
      const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`);
      expect(res.status, subject).to.equal(200);
    }
    expect(expected).to.include(`${env.prefix}inventory.events-commerce.inventory.StockReserved`);
    const config = (await (await fetch(`${url}/config/${env.prefix}inventory.events-commerce.inventory.StockReserved`)).json()) as { compatibilityLevel: string };
    expect(config.compatibilityLevel).to.equal('BACKWARD_TRANSITIVE');
    const versions = (await (await fetch(`${url}/subjects/${env.prefix}inventory.events-commerce.inventory.StockReserved/versions`)).json()) as number[];
    expect(versions).to.deep.equal([1]);
  });

  it('finds every schema from a differently formatted copy, as a Confluent client looks it up (auto.register.schemas=false)', async () => {
    // Confluent's serializers look a schema up by subject without registering
    // it, from however their Avro library prints it; Confluent's registry
    // compares canonical forms. Here: other indentation, keys in another order.
    const url = env.config.schemaRegistryUrl;
    const reordered = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reordered)
        : value && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reordered(v)]),
            )
          : value;
    const registry = createRegistryClient(url);
    const missing: string[] = [];
    for (const { topic, records } of schemaCatalog()) {
      for (const record of records) {
        const subject = subjectName(`${env.prefix}${topic}`, record);
        const { id } = await registerRecord(registry, url, subject, record);
        const copy = JSON.stringify(reordered(record.schema), null, 4);
        expect(copy).to.not.equal(JSON.stringify(record.schema));
        const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
          body: JSON.stringify({ schema: copy }),
        });
        const body = (await res.json()) as { id?: number; message?: string };
        if (res.status !== 200 || body.id !== id) missing.push(`${subject}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('refuses an incompatible evolution, naming subject and field; accepts a compatible one', async () => {
    const registry = createRegistryClient(env.config.schemaRegistryUrl);
    const original = topicSchemas('inventory.commands').records.find((r) => r.name === 'ReserveStock')!;
    const subject = subjectName(env.topics.inventoryCommands.name, original);
    const withRequired = {
      ...original,
      schema: { ...(original.schema as object), fields: [...(original.schema as { fields: object[] }).fields, { name: 'priority', type: 'int', doc: 'new, no default' }] },
    } as typeof original;
    const error = await registerRecord(registry, env.config.schemaRegistryUrl, subject, withRequired).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(IncompatibleSchemaError);
    expect((error as IncompatibleSchemaError).fields).to.deep.equal(['priority']);
    expect((error as Error).message).to.match(new RegExp(`^${subject.replace(/\./g, '\\.')}: incompatible change to field 'priority'`));

    const withOptional = {
      ...original,
      schema: { ...(original.schema as object), fields: [...(original.schema as { fields: object[] }).fields, { name: 'priority', type: ['null', 'int'], default: null, doc: 'new, optional' }] },
    } as typeof original;
    const accepted = await registerRecord(registry, env.config.schemaRegistryUrl, subject, withOptional);
    expect(accepted.subject).to.equal(subject);
  });

  it('round-trips an event through Kafka in the Confluent wire format with its headers', async () => {
    const codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [env.topics.inventoryEvents] });
    const data: StockReserved = {
      productVariantId: 'v-1',
      version: 3,
      occurredAt: Date.UTC(2026, 10, 22),
      reservationId: 'r-1',
      orderId: null,
      reservedUnits: 2,
      expiresAt: Date.UTC(2026, 10, 22, 0, 15),
      quantity: 10,
      reservedQuantity: 2,
      availableQuantity: 8,
    };
    const value = codec.encode(env.topics.inventoryEvents, { type: 'StockReserved', data });
    expect(value[0]).to.equal(0); // magic byte
    const meta = { id: newId(), type: codec.fullName(env.topics.inventoryEvents, 'StockReserved'), source: 'test', time: data.occurredAt, correlationId: 'corr-1', causationId: 'cmd-1' };

    const producer = kafkaFor(env.config).producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: env.topics.inventoryEvents.name, acks: -1, messages: [{ key: 'v-1', value, headers: toHeaders(meta) }] });
    await producer.disconnect();

    const [message] = await readTopic(env.config, env.topics.inventoryEvents.name, (m) => m.length >= 1);
    const decoded = await codec.decode(env.topics.inventoryEvents, message!.value);
    // avsc decodes records into instances of generated classes; compare the fields.
    expect({ type: decoded.message.type, data: { ...decoded.message.data } }).to.deep.equal({ type: 'StockReserved', data });
    expect(decoded.fullName).to.equal('commerce.inventory.StockReserved');
    expect(fromHeaders(message!.headers, 0)).to.deep.equal(meta);
    expect(message!.key).to.equal('v-1');
  });

  it('classifies undecodable messages as poison', async () => {
    const codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [env.topics.inventoryEvents], unknownIdRetryMs: 10 });
    const good = codec.encode(env.topics.inventoryEvents, {
      type: 'OutOfStock',
      data: { productVariantId: 'v', version: 1, occurredAt: 0 },
    });
    const cases: [Buffer, RegExp][] = [
      [Buffer.from('{"json":true}'), /bad magic byte 123/],
      [Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2]), /unknown schema id 2147483632/],
      [good.subarray(0, good.length - 1), /cannot be decoded/],
    ];
    for (const [value, reason] of cases) {
      const error = await codec.decode(env.topics.inventoryEvents, value).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(DecodeError);
      expect((error as DecodeError).permanent).to.equal(true);
      expect((error as Error).message).to.match(reason);
    }
  });

  it('still decodes old events after the registry restarts (schemas live in Kafka)', async function () {
    if (!isEmbedded()) this.skip(); // only the embedded registry is ours to restart
    const codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [env.topics.productEvents] });
    const value = codec.encode(env.topics.productEvents, {
      type: 'ProductCreated',
      data: { productId: 'p-1', version: 1, occurredAt: 1, name: 'Mug', description: null, category: 'kitchen', currency: 'EUR' },
    });
    const producer = kafkaFor(env.config).producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: env.topics.productEvents.name, acks: -1, messages: [{ key: 'p-1', value }] });
    await producer.disconnect();

    await stop('registry', 20_000);
    await startRegistry(() => {});

    // A fresh codec has no cached schemas: every id is fetched from the restarted registry.
    const fresh = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [] });
    const [message] = await readTopic(env.config, env.topics.productEvents.name, (m) => m.length >= 1);
    const decoded = await fresh.decode(env.topics.productEvents, message!.value);
    expect(decoded.message.type).to.equal('ProductCreated');
    expect(decoded.message.data).to.include({ productId: 'p-1', name: 'Mug', category: 'kitchen' });
    // And nothing was re-numbered: registering again gives the same ids.
    const before = value.readInt32BE(1);
    const again = await registerAll(createRegistryClient(env.config.schemaRegistryUrl), env.config.schemaRegistryUrl, env.prefix);
    expect(again.find((r) => r.subject.endsWith('product.events-commerce.product.ProductCreated'))?.id).to.equal(before);
  });
});
