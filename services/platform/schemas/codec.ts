// Avro in the Confluent wire format, over the schema registry. Schema ids for
// everything a component writes are resolved once at start (the registry
// client would otherwise make 2-3 HTTP calls per `register`), and writer
// schemas are cached by id, so a running component needs the registry only to
// read a schema id it has never seen.
//
// Decoding classifies failures: a message that can never be decoded (bad magic
// byte, unknown schema id, a record the topic does not carry, truncated Avro) is
// poison and belongs in a dead-letter topic; a registry that cannot be reached
// is transient and worth retrying.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import TimeoutMiddleware from 'mappersmith/middleware/timeout';
import { subjectName, topicSchemas, type RecordSchema } from './catalog.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';

export class DecodeError extends Error {
  constructor(
    message: string,
    /** True when retrying can never help: the message is poison. */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export class SchemaRegistryError extends Error {}

export interface DecodedMessage<M extends RecordMap> {
  message: TopicMessage<M>;
  schemaId: number;
  fullName: string;
}

export interface Codec {
  /** Synchronous: the schema ids of what a component writes are resolved at start. */
  encode<M extends RecordMap>(topic: TopicDescriptor<M>, message: TopicMessage<M>): Buffer;
  decode<M extends RecordMap>(topic: TopicDescriptor<M>, value: Buffer | null): Promise<DecodedMessage<M>>;
  /**
   * The same, without a promise, when the writer schema is already known (the
   * common case on a hot path); undefined when it must first be fetched.
   */
  decodeKnown<M extends RecordMap>(topic: TopicDescriptor<M>, value: Buffer | null): DecodedMessage<M> | undefined;
  /** Whether schema ids were resolved for this topic (it was among the codec's writes). */
  writes(topic: TopicDescriptor): boolean;
  /** Namespaced record name of a record type on a topic (the ce_type header). */
  fullName(topic: TopicDescriptor, type: string): string;
  registry: SchemaRegistry;
}

export interface CodecOptions {
  registryUrl: string;
  /** Topics this component writes; their schema ids are resolved now. */
  writes: TopicDescriptor[];
  timeoutMs?: number;
  /** Looks at an unknown schema id before it counts as poison, and the pause between them. */
  unknownIdAttempts?: number;
  unknownIdRetryMs?: number;
}

const MAGIC_BYTE = 0;

export function createRegistryClient(registryUrl: string, timeoutMs = 5000): SchemaRegistry {
  return new SchemaRegistry({
    host: registryUrl,
    clientId: 'commerce-core',
    retry: { retries: 2, maxRetryTimeInSecs: 2 },
    // Bounded calls: with the registry down, callers get an error, not a hang.
    // (The cast bridges mappersmith's ESM and CommonJS typings of one middleware.)
    middlewares: [TimeoutMiddleware(timeoutMs) as never],
  });
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

interface WriterEntry {
  reader: RecordSchema;
  resolver: avro.Resolver | undefined;
}

export async function createCodec(options: CodecOptions): Promise<Codec> {
  const registry = createRegistryClient(options.registryUrl, options.timeoutMs);
  const unknownIdAttempts = options.unknownIdAttempts ?? 5;
  const unknownIdRetryMs = options.unknownIdRetryMs ?? 2000;
  const ids = new Map<string, { id: number; record: RecordSchema }>(); // `${topic}|${type}` -> schema id and record
  const writers = new Map<string, WriterEntry>(); // `${topic}|${id}` -> reader and resolver

  for (const topic of options.writes) {
    for (const record of topicSchemas(topic.baseName).records) {
      const subject = subjectName(topic.name, record);
      let id: number;
      try {
        id = await registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema: JSON.stringify(record.schema) });
      } catch (error) {
        const status = statusOf(error) ?? statusOf((error as { cause?: unknown })?.cause);
        if (status === 404 || /not found/i.test(String((error as Error)?.message))) {
          throw new SchemaRegistryError(`schema ${record.fullName} is not registered under subject '${subject}': run 'npm run schemas'`);
        }
        throw new SchemaRegistryError(`schema registry at ${options.registryUrl} did not answer for subject '${subject}': ${(error as Error)?.message ?? error}`);
      }
      ids.set(`${topic.name}|${record.name}`, { id, record });
    }
  }

  const fullNames = new Map<string, string>();
  function fullName(topic: TopicDescriptor, type: string): string {
    const key = `${topic.baseName}|${type}`;
    let name = fullNames.get(key);
    if (!name) {
      const record = topicSchemas(topic.baseName).records.find((r) => r.name === type);
      if (!record) throw new Error(`topic ${topic.baseName} carries no record named ${type}`);
      name = record.fullName;
      fullNames.set(key, name);
    }
    return name;
  }

  // Ids found unknown recently: a burst of poison carrying one id is not
  // looked up again message by message.
  const unknownIds = new Map<number, number>();
  async function fetchWriter(id: number): Promise<avro.Type> {
    const knownUnknown = unknownIds.get(id);
    if (knownUnknown !== undefined && Date.now() - knownUnknown < 30_000) throw new DecodeError(`unknown schema id ${id}: the registry has no such schema`, true);
    // A registry that is restarting may deny a schema it holds until it has
    // replayed its storage, so "unknown" is only believed after a few looks.
    for (let attempt = 1; ; attempt++) {
      try {
        return (await registry.getSchema(id)) as avro.Type;
      } catch (error) {
        if (statusOf(error) !== 404) {
          throw new DecodeError(`schema registry unreachable while resolving schema id ${id}: ${(error as Error)?.message ?? error}`, false);
        }
        if (attempt >= unknownIdAttempts) {
          unknownIds.set(id, Date.now());
          throw new DecodeError(`unknown schema id ${id}: the registry has no such schema`, true);
        }
        await new Promise((resolve) => setTimeout(resolve, unknownIdRetryMs));
      }
    }
  }

  async function writerEntry(topic: TopicDescriptor, id: number): Promise<WriterEntry> {
    const key = `${topic.baseName}|${id}`;
    const cached = writers.get(key);
    if (cached) return cached;
    const writer = await fetchWriter(id);
    const reader = topicSchemas(topic.baseName).records.find((r) => r.fullName === writer.name);
    if (!reader) throw new DecodeError(`schema id ${id} is ${writer.name ?? 'an unnamed schema'}, which topic ${topic.baseName} does not carry`, true);
    let resolver: avro.Resolver | undefined;
    if (!reader.type.equals(writer)) {
      try {
        resolver = reader.type.createResolver(writer);
      } catch (error) {
        throw new DecodeError(`schema id ${id} cannot be read as ${reader.fullName}: ${(error as Error).message}`, true);
      }
    }
    const entry = { reader, resolver };
    writers.set(key, entry);
    return entry;
  }

  // The 5-byte Confluent header is read here (rather than by the client's
  // decode) to classify failures and to cache one resolver per writer id.
  function wireSchemaId(value: Buffer | null): number {
    if (!value || value.length < 5) throw new DecodeError(`message of ${value?.length ?? 0} bytes is too short for the Confluent wire format`, true);
    if (value[0] !== MAGIC_BYTE) throw new DecodeError(`bad magic byte ${value[0]}: not the Confluent wire format`, true);
    return value.readInt32BE(1);
  }

  function decodeWith<M extends RecordMap>({ reader, resolver }: WriterEntry, value: Buffer, schemaId: number): DecodedMessage<M> {
    let data: unknown;
    try {
      // avsc builds records as instances of generated classes; consumers get a
      // plain object (SQLite bindings, for one, accept nothing else).
      data = { ...(reader.type.fromBuffer(value.subarray(5), resolver) as object) };
    } catch (error) {
      throw new DecodeError(`Avro payload for ${reader.fullName} (schema id ${schemaId}) cannot be decoded: ${(error as Error).message}`, true);
    }
    return { message: { type: reader.name, data } as DecodedMessage<M>['message'], schemaId, fullName: reader.fullName };
  }

  const written = new Set(options.writes.map((t) => t.name));
  return {
    registry,
    fullName,
    writes: (topic) => written.has(topic.name),
    // The Confluent framing written here rather than by the client's (async)
    // encode: the id was looked up at start for this very schema, so encoding
    // is a synchronous step of a command processor's hot loop.
    encode(topic, message) {
      const writer = ids.get(`${topic.name}|${message.type}`);
      if (writer === undefined) throw new Error(`no schema id resolved for ${message.type} on ${topic.name}: add the topic to the codec's writes`);
      let body: Buffer;
      try {
        body = writer.record.type.toBuffer(message.data);
      } catch (error) {
        const paths: string[] = [];
        writer.record.type.isValid(message.data, { errorHook: (path) => paths.push(path.join('.')) });
        throw new Error(`${message.type} does not match its schema: ${(error as Error).message} ${JSON.stringify(paths)}`);
      }
      const header = Buffer.allocUnsafe(5);
      header.writeUInt8(MAGIC_BYTE, 0);
      header.writeInt32BE(writer.id, 1);
      return Buffer.concat([header, body]);
    },
    async decode(topic, value) {
      const schemaId = wireSchemaId(value);
      return decodeWith(await writerEntry(topic, schemaId), value!, schemaId);
    },
    decodeKnown(topic, value) {
      const schemaId = wireSchemaId(value);
      const entry = writers.get(`${topic.baseName}|${schemaId}`);
      return entry ? decodeWith(entry, value!, schemaId) : undefined;
    },
  };
}
