// Typed topic descriptors: a topic's full name (with TOPIC_PREFIX), its key, its
// partition count, and the records it carries as a type map. Code passes these
// around instead of strings, so a producer cannot put a record on a topic whose
// schemas do not include it.
import { readTopologyFile } from './topology/declaration.ts';

/** Record name -> record shape, as generated from schemas/<topic>/. */
export type RecordMap = { [name: string]: object };

export interface TopicDescriptor<M extends RecordMap = RecordMap> {
  /** Full name on the broker, prefix included. */
  readonly name: string;
  /** Name as declared in topology/ and schemas/. */
  readonly baseName: string;
  /** Field of every record that is the message key. */
  readonly key: string;
  readonly partitions: number;
  /** Phantom: the records this topic carries. */
  readonly records?: M;
}

/**
 * The records every `.events` topic carries for outcomes that change no state
 * (schemas/shared/): the command processor writes them, deciders never do.
 */
export type OutcomeRecord = 'CommandRejected' | 'CommandUnchanged';

/** One decoded message of a topic: `{type: 'StockReserved', data: {...}}`. */
export type TopicMessage<M extends RecordMap> = { [K in keyof M & string]: { type: K; data: M[K] } }[keyof M & string];

/**
 * Descriptors for a TOPIC_PREFIX, each checked against topology/topics.yaml
 * (which must declare it with a key): `topic<ProductEvents>('product.events')`.
 * Which topics exist and what they carry is the services' business
 * (services/topics.ts); this only builds descriptors.
 */
export function topicDeclarations(prefix: string): <M extends RecordMap>(baseName: string) => TopicDescriptor<M> {
  const declared = readTopologyFile().topics;
  return (baseName) => {
    const entry = declared[baseName];
    if (!entry?.key) throw new Error(`topology/topics.yaml does not declare a keyed topic '${baseName}'`);
    return { name: `${prefix}${baseName}`, baseName, key: entry.key, partitions: entry.partitions };
  };
}

/** Where the messages of a topic (its full name) go that cannot be handled. */
export function deadLetterTopicName(topic: string): string {
  return `${topic}.dlq`;
}
