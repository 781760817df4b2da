import fs from 'node:fs';
import { expect } from 'chai';
import avro from 'avsc';
import { DiagnosticSeverity, type AsyncAPIDocumentInterface, type Diagnostic, type MessageInterface } from '@asyncapi/parser';
import { ASYNCAPI_FILE, AVRO_FORMAT, describeDiagnostic, generateAsyncApi, parseAsyncApi, renderAsyncApi } from '../../scripts/asyncapi.ts';
import { HEADER } from '../../services/platform/headers.ts';
import { DLQ_HEADER } from '../../services/platform/processing/dead-letters.ts';
import { schemaCatalog, subjectName } from '../../services/platform/schemas/catalog.ts';
import { readAccessFile } from '../../services/platform/topology/access.ts';
import { readTopologyFile, resolveTopology } from '../../services/platform/topology/declaration.ts';

const checkedIn = fs.readFileSync(ASYNCAPI_FILE, 'utf8');
const topology = readTopologyFile();
// Channel bindings carry production's replication (the msk profile).
const declared = [...resolveTopology(topology, { profile: 'msk', prefix: '' }), ...resolveTopology(topology, { profile: 'msk', prefix: '', section: 'registry' })];

describe('AsyncAPI document (docs/asyncapi.yaml)', () => {
  let parsed: AsyncAPIDocumentInterface | undefined;
  let diagnostics: Diagnostic[] = [];
  const doc = (): AsyncAPIDocumentInterface => {
    if (!parsed) throw new Error(`the parser gave no document: ${diagnostics.map(describeDiagnostic).join('; ')}`);
    return parsed;
  };
  const message = (channel: string, name: string): MessageInterface => {
    const found = doc().channels().get(channel)?.messages().get(name);
    if (!found) throw new Error(`no message ${name} on channel ${channel}`);
    return found;
  };

  before(async () => {
    ({ document: parsed, diagnostics } = await parseAsyncApi(checkedIn));
  });

  it('is what `npm run asyncapi` generates from topology/ and schemas/ now', () => {
    expect(checkedIn === renderAsyncApi(generateAsyncApi()), 'docs/asyncapi.yaml is stale: run npm run asyncapi and commit it').to.equal(true);
  });

  it('parses with @asyncapi/parser without error diagnostics', () => {
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map(describeDiagnostic);
    expect(errors).to.deep.equal([]);
    expect(doc().version()).to.equal('3.0.0');
  });

  it('has a channel for every topic of topology/, with its partitions, replication and retention', () => {
    expect(
      doc()
        .channels()
        .all()
        .map((c) => c.address())
        .sort(),
    ).to.deep.equal(declared.map((d) => d.baseName).sort());
    for (const d of declared) {
      const kafka = doc().channels().get(d.baseName)?.bindings().get('kafka')?.value<{ partitions: number; replicas: number; topicConfiguration: Record<string, unknown> }>();
      expect(kafka?.partitions, d.baseName).to.equal(d.partitions);
      expect(kafka?.replicas, d.baseName).to.equal(d.replicationFactor);
      expect(kafka?.topicConfiguration['retention.ms'], d.baseName).to.equal(Number(d.configs['retention.ms']));
    }
  });

  it('describes every Avro record a topic carries as a message with that schema, key and subject', () => {
    const generated = generateAsyncApi();
    for (const { topic, records } of schemaCatalog()) {
      const key = topology.topics[topic]?.key;
      expect(
        doc()
          .channels()
          .get(topic)
          ?.messages()
          .all()
          .map((m) => m.id())
          .sort(),
        topic,
      ).to.deep.equal(records.map((r) => r.name).sort());
      for (const record of records) {
        const m = message(topic, record.name);
        expect(m.schemaFormat(), record.fullName).to.equal(AVRO_FORMAT);
        expect(generated.components?.schemas?.[record.fullName]).to.deep.equal({ schemaFormat: AVRO_FORMAT, schema: record.schema });
        // The parser's model holds the JSON Schema our Avro parser made of it: one property per field.
        expect(Object.keys(m.payload()?.properties() ?? {}), record.fullName).to.deep.equal(record.type instanceof avro.types.RecordType ? record.type.fields.map((f) => f.name) : []);
        expect(m.bindings().get('kafka')?.value<{ key: { description: string } }>().key.description, record.fullName).to.contain(key);
        expect(m.extensions().get('x-schema-registry-subject')?.value(), record.fullName).to.equal(subjectName(topic, record));
      }
    }
  });

  it("describes the CloudEvents headers on every message, ce_type naming the message's record", () => {
    for (const { topic, records } of schemaCatalog()) {
      for (const record of records) {
        const [common, own] = message(topic, record.name).headers()?.allOf() ?? [];
        expect(Object.keys(common?.properties() ?? {}), record.fullName).to.include.members(Object.values(HEADER));
        expect(own?.properties()?.[HEADER.type]?.const(), record.fullName).to.equal(record.fullName);
      }
    }
    const letter = message('inventory.commands.dlq', 'DeadLetter');
    expect(Object.keys(letter.headers()?.allOf()?.[1]?.properties() ?? {})).to.have.members(Object.values(DLQ_HEADER));
  });

  it('sends and receives as topology/access.yaml grants each service', () => {
    const operation = (id: string, action: 'send' | 'receive', address: string) => {
      const op = doc().operations().get(id);
      expect(op?.action(), id).to.equal(action);
      expect(
        op
          ?.channels()
          .all()
          .map((c) => c.address()),
        id,
      ).to.deep.equal([address]);
    };
    for (const [service, { reads, writes }] of Object.entries(readAccessFile().services)) {
      for (const topic of writes) operation(`${service}.send.${topic}`, 'send', topic);
      for (const topic of reads) {
        operation(`${service}.receive.${topic}`, 'receive', topic);
        if (topology.topics[topic]?.deadLetters) operation(`${service}.send.${topic}.dlq`, 'send', `${topic}.dlq`);
      }
    }
    expect(doc().operations().get('order.send.product.details.requests')?.reply()?.channel()?.address()).to.equal('product.details.replies');
  });
});
