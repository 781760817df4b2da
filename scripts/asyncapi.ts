// npm run asyncapi [-- --check]
// Writes docs/asyncapi.yaml, the AsyncAPI 3 description of every topic, from
// topology/ (channels, keys, partitions, who reads and writes) and schemas/
// (each message's Avro schema), validated with @asyncapi/parser. --check only
// compares: it fails when the checked-in document is stale or invalid.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiagnosticSeverity, Parser, type Diagnostic, type SchemaParser } from '@asyncapi/parser';
import type { v3 } from '@asyncapi/parser/esm/spec-types/index.js';
import avro from 'avsc';
import { stringify } from 'yaml';
import { runCli, UsageError } from './cli.ts';
import { stacks } from './embedded/layout.ts';
import type { KafkaProfile } from '../services/platform/config.ts';
import { HEADER } from '../services/platform/headers.ts';
import { REPLAYED_FROM_HEADER } from '../services/platform/processing/dead-letter-replay.ts';
import { DLQ_HEADER } from '../services/platform/processing/dead-letters.ts';
import { schemaCatalog, subjectName } from '../services/platform/schemas/catalog.ts';
import { readAccessFile } from '../services/platform/topology/access.ts';
import { readTopologyFile, resolveTopology, type TopicDeclaration } from '../services/platform/topology/declaration.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ASYNCAPI_FILE = path.join(ROOT, 'docs', 'asyncapi.yaml');
export const AVRO_FORMAT = 'application/vnd.apache.avro;version=1.9.0';
// What production runs: its replication goes in the bindings, every profile's in x-profiles.
const PRODUCTION_PROFILE: KafkaProfile = 'msk';
const KAFKA_PROFILES: Record<KafkaProfile, true> = { local: true, cluster: true, msk: true };
const isProfile = (p: string): p is KafkaProfile => p in KAFKA_PROFILES;
const KAFKA_BINDING = '0.5.0';
const SERVICE_TAGS: Record<string, string> = {
  product: 'The product service: the catalogue, and answers to product-details requests.',
  inventory: 'The inventory service: stock and reservations.',
  order: 'The order service: orders and the checkout saga.',
  registry: 'The embedded schema registry (Apicurio kafkasql), which keeps its schemas on the log.',
};

const ref = (pointer: string): v3.ReferenceObject => ({ $ref: pointer });
const pointer = (...parts: string[]) => `#/${parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
const text = (...lines: (string | false | undefined)[]) => lines.filter(Boolean).join(' ');
const sorted = <T>(o: Record<string, T>): Record<string, T> =>
  Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]!]),
  );

// Described per header constant, so a header added to headers.ts without a description fails to compile.
const CE_HEADERS: Record<keyof typeof HEADER, v3.AsyncAPISchemaDefinition> = {
  specVersion: { type: 'string', const: '1.0', description: 'CloudEvents spec version.' },
  id: { type: 'string', description: 'Unique id of this message (a UUID when we write it).' },
  type: { type: 'string', description: "The record's full Avro name, e.g. commerce.inventory.commands.ReserveStock: what to decode it as." },
  source: { type: 'string', description: 'Who wrote it: product, inventory, order (or <service>-timer); another producer names itself.' },
  time: { type: 'string', format: 'date-time', description: 'When it happened or was issued, ISO 8601; a command is decided at this time (default: the record timestamp).' },
  correlationId: { type: 'string', description: 'Ties every message of one request together (default: ce_id).' },
  causationId: { type: 'string', description: 'The ce_id of the message that caused this one; on an outcome event, the command it answers.' },
  outcomeIndex: { type: 'string', pattern: '^[0-9]+$', description: "0-based position of this event among one command's outcome events." },
  outcomeCount: { type: 'string', pattern: '^[1-9][0-9]*$', description: 'How many outcome events one command produced: a waiter knows when it has seen all.' },
  contentType: { type: 'string', const: 'application/avro', description: 'The value is Avro in the Confluent wire format.' },
  traceparent: {
    type: 'string',
    pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
    description: 'W3C trace context of the span that wrote it (present while tracing is on): whoever handles it continues that trace.',
  },
  tracestate: { type: 'string', description: 'W3C tracestate travelling with traceparent, when the trace has one.' },
};
const DLQ_HEADERS: Record<keyof typeof DLQ_HEADER, string> = {
  reason: 'Why it could not be handled.',
  topic: 'The topic it was read from (prefix included).',
  partition: 'Its partition there.',
  offset: 'Its offset there.',
  consumer: 'The consumer group that gave up on it.',
  time: 'When it was dead-lettered, ISO 8601.',
};

function headerSchemas(): Record<string, v3.AsyncAPISchemaDefinition> {
  const ce = Object.fromEntries((Object.keys(HEADER) as (keyof typeof HEADER)[]).map((k) => [HEADER[k], CE_HEADERS[k]]));
  ce[REPLAYED_FROM_HEADER] = { type: 'string', description: '<dead-letter topic>@<partition>:<offset> when re-driven by `npm run dlq -- replay`.' };
  const dlq = Object.fromEntries(
    (Object.keys(DLQ_HEADER) as (keyof typeof DLQ_HEADER)[]).map((k): [string, v3.AsyncAPISchemaDefinition] => [DLQ_HEADER[k], { type: 'string', description: DLQ_HEADERS[k] }]),
  );
  return {
    CloudEventsHeaders: {
      type: 'object',
      description: text(
        "CloudEvents' Kafka binding, binary mode. Our services write ce_specversion, ce_id, ce_type, ce_source, ce_time, ce_correlationid and content-type on every message,",
        'ce_causationid when a message caused it, and ce_outcomeindex/ce_outcomecount on the events answering a command. None is required of other producers (docs/integrating.md).',
      ),
      properties: ce,
    },
    DeadLetterHeaders: { allOf: [ref(pointer('components', 'schemas', 'CloudEventsHeaders')), { type: 'object', properties: dlq, required: Object.values(DLQ_HEADER) }] },
  };
}

// The binding wants numbers and cleanup.policy as a list; topics.yaml holds Kafka's strings.
function topicConfiguration(configs: Record<string, string>): Record<string, unknown> {
  return sorted(Object.fromEntries(Object.entries(configs).map(([k, v]) => [k, k === 'cleanup.policy' ? v.split(',') : /^-?\d+$/.test(v) ? Number(v) : v])));
}

function channelDescription(d: TopicDeclaration, key: string | undefined, registry: boolean): string {
  const name = d.baseName;
  if (registry) return `The schema registry's own topic (Apicurio kafkasql), never prefixed. Nothing but the registry reads or writes it.`;
  return text(
    `Topic \`<TOPIC_PREFIX>${name}\` (no prefix in production).`,
    name.endsWith('.commands') && `Commands, each decided exactly once and answered on \`${name.replace(/commands$/, 'events')}\` in the same partition.`,
    name.endsWith('.events') && 'Events, written in transactions (read with isolation.level=read_committed) and kept forever: state is rebuilt from them.',
    name.endsWith('.requests') && `Requests, answered on \`${name.replace(/requests$/, 'replies')}\` under the same key.`,
    name.endsWith('.dlq') &&
      `Messages of \`${name.slice(0, -4)}\` that could not be handled, byte for byte, with their original headers and dlq_* headers saying why; \`npm run dlq\` shows and replays them.`,
    key && `The message key is the record's \`${key}\` as a UTF-8 string, partitioned with murmur2 (the Java client's default partitioner).`,
    d.coPartitionGroup && `Co-partitioned (group \`${d.coPartitionGroup}\`): always the same partition count as the rest of its group.`,
  );
}

/** The AsyncAPI 3 document, deterministic: everything sorted by name. */
export function generateAsyncApi(): v3.AsyncAPIObject {
  const pkg: { version: string; description: string } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const topology = readTopologyFile();
  const access = readAccessFile();
  const catalog = new Map(schemaCatalog().map((t) => [t.topic, t.records]));
  const profiles = Object.keys(topology.profiles).filter(isProfile).sort();
  const perProfile = new Map(
    profiles.map((p) => [
      p,
      new Map([...resolveTopology(topology, { profile: p, prefix: '' }), ...resolveTopology(topology, { profile: p, prefix: '', section: 'registry' })].map((d) => [d.baseName, d])),
    ]),
  );
  const declared = perProfile.get(PRODUCTION_PROFILE);
  if (!declared) throw new Error(`topology/topics.yaml declares no '${PRODUCTION_PROFILE}' profile`);

  const schemas: Record<string, v3.SchemaObject> = headerSchemas();
  const channels: Record<string, v3.ChannelObject> = {};
  const messageBindings: Record<string, v3.MessageBindingsObject> = {};
  for (const name of [...declared.keys()].sort()) {
    const d = declared.get(name)!;
    const registry = topology.registry[name] !== undefined;
    const key = topology.topics[name]?.key;
    // One binding per key field: the key, and where the Confluent wire format puts the schema id.
    if (key) {
      const kafka = { schemaIdLocation: 'payload', schemaIdPayloadEncoding: 'confluent', schemaLookupStrategy: 'TopicRecordNameStrategy', bindingVersion: KAFKA_BINDING };
      messageBindings[`keyedBy.${key}`] = { kafka: { key: { type: 'string', description: `The record's ${key}, UTF-8.` }, ...kafka } };
    }
    const messages: Record<string, v3.MessageObject | v3.ReferenceObject> = {};
    if (name.endsWith('.dlq')) messages.DeadLetter = ref(pointer('components', 'messages', 'DeadLetter'));
    for (const record of (catalog.get(name) ?? []).slice().sort((a, b) => a.name.localeCompare(b.name))) {
      schemas[record.fullName] = { schemaFormat: AVRO_FORMAT, schema: record.schema };
      messages[record.name] = {
        name: record.name,
        ...(record.type.doc ? { summary: record.type.doc } : {}),
        headers: { allOf: [ref(pointer('components', 'schemas', 'CloudEventsHeaders')), { type: 'object', properties: { [HEADER.type]: { type: 'string', const: record.fullName } } }] },
        payload: ref(pointer('components', 'schemas', record.fullName)),
        correlationId: ref(pointer('components', 'correlationIds', 'correlationId')),
        ...(key ? { bindings: ref(pointer('components', 'messageBindings', `keyedBy.${key}`)) } : {}),
        'x-schema-registry-subject': subjectName(name, record),
      };
    }
    const replication = Object.fromEntries(
      profiles.map((p) => {
        const at = perProfile.get(p)!.get(name)!;
        return [p, { replicas: at.replicationFactor, 'min.insync.replicas': Number(at.configs['min.insync.replicas']) }];
      }),
    );
    channels[name] = {
      address: name,
      description: channelDescription(d, key, registry),
      messages,
      bindings: {
        kafka: { partitions: d.partitions, replicas: d.replicationFactor, topicConfiguration: topicConfiguration(d.configs), bindingVersion: KAFKA_BINDING, 'x-profiles': replication },
      },
    };
  }

  const operations: Record<string, v3.OperationObject> = {};
  const operation = (service: string, action: 'send' | 'receive', topic: string, description: string) => {
    const channel = channels[topic];
    if (!channel) throw new Error(`topology/access.yaml: ${service} names '${topic}', which topics.yaml does not declare`);
    const replies = topic.endsWith('.requests') ? topic.replace(/requests$/, 'replies') : undefined;
    operations[`${service}.${action}.${topic}`] = {
      action,
      channel: ref(pointer('channels', topic)),
      summary: `${service} ${action === 'send' ? 'writes to' : 'reads'} ${topic}`,
      description,
      messages: Object.keys(channel.messages ?? {}).map((m) => ref(pointer('channels', topic, 'messages', m))),
      ...(replies && channels[replies] ? { reply: { channel: ref(pointer('channels', replies)) } } : {}),
      tags: [{ name: service }],
    };
  };
  for (const [service, { reads, writes }] of Object.entries(access.services)) {
    for (const topic of writes) operation(service, 'send', topic, 'May write any message of the channel (topology/access.yaml grants the write).');
    for (const topic of reads) {
      operation(service, 'receive', topic, `In consumer groups named \`<TOPIC_PREFIX>${service}-…\`, read_committed.`);
      if (topology.topics[topic]?.deadLetters) operation(service, 'send', `${topic}.dlq`, `What ${service} cannot handle from ${topic}.`);
    }
  }
  for (const topic of access.registry.reads) operation('registry', 'receive', topic, 'The registry replays its journal at start.');
  for (const topic of access.registry.writes) operation('registry', 'send', topic, 'Schema registrations and their announcements.');

  const kafkaServer = (registryUrl: string) => ({ kafka: { schemaRegistryUrl: registryUrl, schemaRegistryVendor: 'confluent', bindingVersion: KAFKA_BINDING } });
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'commerce-core topics',
      version: pkg.version,
      description: text(
        `${pkg.description} Generated by \`npm run asyncapi\` from topology/topics.yaml, topology/access.yaml and schemas/: do not edit.`,
        'Channel addresses are topic names before TOPIC_PREFIX (empty in production, except the registry topics, never prefixed).',
        'Values are Avro in the Confluent wire format; subjects follow TopicRecordNameStrategy (`<prefix><topic>-<full record name>`, each message names its own).',
        'How to produce a valid command and read its answer: docs/integrating.md.',
      ),
      tags: Object.keys(SERVICE_TAGS)
        .sort()
        .map((name) => ({ name, description: SERVICE_TAGS[name]! })),
    },
    defaultContentType: 'application/avro',
    servers: {
      local: {
        host: stacks.plain.brokers,
        protocol: 'kafka',
        description: 'The embedded broker of `npm run kafka -- up` (plaintext); its Apicurio registry speaks the Confluent API.',
        bindings: kafkaServer(stacks.plain.registryUrl),
      },
      'local-secure': {
        host: stacks.secure.brokers,
        protocol: 'kafka-secure',
        description: 'The embedded secure stack (`npm run kafka -- up --secure`): SASL_SSL with SCRAM-SHA-512, the local CA in KAFKA_SSL_CA_FILE, ACLs from topology/access.yaml.',
        security: [ref(pointer('components', 'securitySchemes', 'scramSha512'))],
        bindings: kafkaServer(stacks.secure.registryUrl),
      },
      msk: {
        host: '{bootstrapBrokers}',
        protocol: 'kafka-secure',
        description: 'Amazon MSK (KAFKA_PROFILE=msk): TLS listeners with SASL/SCRAM-SHA-512; plaintext is refused. One SCRAM user per service, named as the service.',
        variables: { bootstrapBrokers: { description: 'The SASL/SCRAM bootstrap brokers (KAFKA_BROKERS), host:port, comma-separated.' } },
        security: [ref(pointer('components', 'securitySchemes', 'scramSha512'))],
      },
    },
    channels,
    operations: sorted(operations),
    components: {
      schemas,
      messages: {
        DeadLetter: {
          name: 'DeadLetter',
          title: 'Dead letter',
          summary: "A message that could not be handled, kept byte for byte: usually one of the source topic's messages, but possibly anything a producer wrote.",
          contentType: 'application/octet-stream',
          headers: ref(pointer('components', 'schemas', 'DeadLetterHeaders')),
          payload: { type: 'string', format: 'binary', description: 'The original value, unchanged.' },
          bindings: { kafka: { key: { type: 'string', description: 'The original key, unchanged.' }, bindingVersion: KAFKA_BINDING } },
        },
      },
      messageBindings: sorted(messageBindings),
      correlationIds: { correlationId: { description: 'Ties every message of one request together.', location: `$message.header#/${HEADER.correlationId}` } },
      securitySchemes: { scramSha512: { type: 'scramSha512', description: 'SASL/SCRAM-SHA-512 (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD).' } },
    },
  };
}

export function renderAsyncApi(doc: v3.AsyncAPIObject): string {
  // No anchors for shared objects, no folding: the file is diffed and grepped.
  return `# Generated by \`npm run asyncapi\` from topology/ and schemas/. Do not edit.\n${stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 })}`;
}

// Avro schemas are checked with avsc, the Avro implementation the services run,
// and turned into JSON Schema for the parsed document's model.
function isAvroSchema(data: unknown): data is avro.Schema {
  return typeof data === 'string' || Array.isArray(data) || (typeof data === 'object' && data !== null);
}
function jsonSchemaOf(type: avro.Type, within: ReadonlySet<avro.Type> = new Set()): v3.AsyncAPISchemaDefinition {
  const doc = type.doc ? { description: type.doc } : {};
  const { types } = avro;
  const inner = (t: avro.Type) => jsonSchemaOf(t, within);
  if (type instanceof types.RecordType) {
    if (within.has(type)) return { type: 'object', title: type.name }; // a recursive record: named, not expanded again
    const properties = Object.fromEntries(type.fields.map((f) => [f.name, jsonSchemaOf(f.type, new Set(within).add(type))]));
    return { type: 'object', title: type.name, ...doc, properties, required: type.fields.filter((f) => f.defaultValue() === undefined).map((f) => f.name) };
  }
  if (type instanceof types.EnumType) return { type: 'string', enum: type.symbols, ...doc };
  if (type instanceof types.ArrayType) return { type: 'array', items: inner(type.itemsType) };
  if (type instanceof types.MapType) return { type: 'object', additionalProperties: inner(type.valuesType) };
  if (type instanceof types.UnwrappedUnionType || type instanceof types.WrappedUnionType) return { oneOf: type.types.map(inner) };
  return AVRO_PRIMITIVES[type.typeName] ?? {};
}
const AVRO_PRIMITIVES: Record<string, v3.AsyncAPISchemaDefinition> = {
  null: { type: 'null' },
  boolean: { type: 'boolean' },
  int: { type: 'integer', format: 'int32' },
  long: { type: 'integer', format: 'int64' },
  float: { type: 'number' },
  double: { type: 'number' },
  string: { type: 'string' },
  bytes: { type: 'string' },
  fixed: { type: 'string' },
};
export const avroSchemaParser: SchemaParser = {
  getMimeTypes: () => [AVRO_FORMAT, 'application/vnd.apache.avro+json;version=1.9.0', 'application/vnd.apache.avro+yaml;version=1.9.0'],
  validate: ({ data, path: at }) => {
    try {
      if (!isAvroSchema(data)) throw new Error('not a JSON value');
      avro.Type.forSchema(data);
      return [];
    } catch (error) {
      return [{ message: `invalid Avro schema: ${error instanceof Error ? error.message : String(error)}`, path: [...at] }];
    }
  },
  parse: ({ data }) => (isAvroSchema(data) ? jsonSchemaOf(avro.Type.forSchema(data)) : {}),
};

export async function parseAsyncApi(source: string) {
  return new Parser({ schemaParsers: [avroSchemaParser] }).parse(source);
}

export function describeDiagnostic(d: Diagnostic): string {
  return `${d.message} at ${d.path.join('.') || '(root)'}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli('asyncapi', async () => {
    const args = process.argv.slice(2);
    if (args.some((a) => a !== '--check')) throw new UsageError(`unknown argument ${args.filter((a) => a !== '--check').join(' ')} (usage: npm run asyncapi -- [--check])`);
    const check = args.includes('--check');
    const relative = path.relative(process.cwd(), ASYNCAPI_FILE);
    const fresh = renderAsyncApi(generateAsyncApi());
    const current = fs.existsSync(ASYNCAPI_FILE) ? fs.readFileSync(ASYNCAPI_FILE, 'utf8') : undefined;
    if (check && current !== fresh) throw new Error(`${relative} is ${current === undefined ? 'missing' : 'stale'}: run npm run asyncapi and commit it`);
    const { document, diagnostics } = await parseAsyncApi(fresh);
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning);
    if (errors.length > 0) throw new Error(`the AsyncAPI parser reports ${errors.length} error(s), first: ${describeDiagnostic(errors[0]!)}`);
    if (!check) fs.writeFileSync(ASYNCAPI_FILE, fresh);
    const counts = `${document?.channels().length} channels, ${document?.messages().length} messages, ${document?.operations().length} operations`;
    console.log(`asyncapi: ${relative} ${check ? 'is up to date' : current === fresh ? 'unchanged' : 'written'} (${counts}); parser: 0 errors, ${warnings.length} warning(s)`);
  });
}
