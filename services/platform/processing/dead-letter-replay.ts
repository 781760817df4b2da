// What an operator does with dead letters: read them, and re-drive them into
// the topic they came from once the cause is fixed (a schema registered again,
// a bug deployed away, a producer that used the wrong partitioner).
//
// A replay re-produces each letter's key, value and original headers (the
// dlq_* ones dropped, a dlq_replayed_from added) keyed as before, so the
// Java-compatible partitioner puts it where its key belongs. The letters
// replayed and the replay group's position move in one transaction: running a
// replay twice, or after a crash, never re-drives a letter twice.
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { headerText } from '../headers.ts';
import { readPartitions } from '../kafka/partition-reader.ts';
import { sendOffsetsWithRetry } from '../kafka/transactions.ts';
import { DecodeError, type Codec } from '../schemas/codec.ts';
import { deadLetterTopicName, type TopicDescriptor } from '../topics.ts';
import { DLQ_HEADER } from './dead-letters.ts';

export const REPLAYED_FROM_HEADER = 'dlq_replayed_from';

export interface DeadLetter {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
  reason: string;
  source: { topic: string; partition: string; offset: string };
  consumer: string;
  time: string;
}

/** `<partition>:<offset>` of a dead letter, as operators name it. */
export type LetterPosition = { partition: number; offset: bigint };

function toLetter(partition: number, message: KafkaMessage): DeadLetter {
  const h = (name: string) => headerText(message.headers, name) ?? '';
  return {
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value,
    headers: message.headers ?? {},
    timestamp: message.timestamp,
    reason: h(DLQ_HEADER.reason),
    source: { topic: h(DLQ_HEADER.topic), partition: h(DLQ_HEADER.partition), offset: h(DLQ_HEADER.offset) },
    consumer: h(DLQ_HEADER.consumer),
    time: h(DLQ_HEADER.time),
  };
}

export function replayGroup(topic: TopicDescriptor, topicPrefix: string): string {
  return `${topicPrefix}dlq-replay-${topic.baseName}`;
}

export interface DeadLetterSummary {
  topic: string;
  total: number;
  /** Letters after the replay group's position: not yet replayed. */
  pending: number;
}

export async function summarize(kafka: Kafka, topic: TopicDescriptor, topicPrefix: string): Promise<DeadLetterSummary> {
  // Counted by reading: offsets also number transaction markers, letters do not.
  const all = await readDeadLetters(kafka, topic, topicPrefix, 'all');
  const { replayed } = await positions(kafka, topic, topicPrefix);
  const pending = all.filter((l) => BigInt(l.offset) >= (replayed.get(l.partition) ?? 0n));
  return { topic: deadLetterTopicName(topic.name), total: all.length, pending: pending.length };
}

async function positions(kafka: Kafka, topic: TopicDescriptor, topicPrefix: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = (await admin.fetchTopicOffsets(deadLetterTopicName(topic.name))).map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
    const [entry] = await admin.fetchOffsets({ groupId: replayGroup(topic, topicPrefix), topics: [deadLetterTopicName(topic.name)] });
    const replayed = new Map((entry?.partitions ?? []).filter((p) => p.offset !== '-1').map((p) => [p.partition, BigInt(p.offset)]));
    return { ends, replayed };
  } finally {
    await admin.disconnect();
  }
}

/** Dead letters of a topic, in offset order per partition: all of them, those not yet replayed, or the ones named. */
export async function readDeadLetters(kafka: Kafka, topic: TopicDescriptor, topicPrefix: string, which: 'all' | 'pending' | LetterPosition[] = 'all'): Promise<DeadLetter[]> {
  const { ends, replayed } = await positions(kafka, topic, topicPrefix);
  const named = Array.isArray(which) ? which : undefined;
  const ranges = ends.map((end) => {
    const from = which === 'pending' ? (replayed.get(end.partition) ?? end.low) : end.low;
    return { partition: end.partition, from: from > end.low ? from : end.low, to: end.high };
  });
  const letters: DeadLetter[] = [];
  await readPartitions({
    kafka,
    topic: deadLetterTopicName(topic.name),
    ranges: named ? ranges.filter((r) => named.some((n) => n.partition === r.partition)) : ranges,
    groupPrefix: 'dlq-reader',
    onBatch: (partition, messages) => {
      for (const m of messages) {
        if (named && !named.some((n) => n.partition === partition && n.offset === BigInt(m.offset))) continue;
        letters.push(toLetter(partition, m));
      }
    },
  });
  if (named) {
    const missing = named.filter((n) => !letters.some((l) => l.partition === n.partition && BigInt(l.offset) === n.offset));
    if (missing.length) throw new Error(`${deadLetterTopicName(topic.name)} has no letter at ${missing.map((m) => `${m.partition}:${m.offset}`).join(', ')}`);
  }
  return letters;
}

export interface ReplayResult {
  replayed: DeadLetter[];
  /** Letters left where they are: still undecodable, and why. */
  skipped: { letter: DeadLetter; why: string }[];
}

export interface ReplayOptions {
  kafka: Kafka;
  codec: Codec;
  topic: TopicDescriptor;
  topicPrefix: string;
  /** Letters to replay; by default every one not yet replayed (and the replay position moves). */
  only?: LetterPosition[];
  /** Re-drive letters that still cannot be decoded (they will come back). */
  force?: boolean;
  dryRun?: boolean;
}

export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayResult> {
  const { kafka, codec, topic } = options;
  const letters = await readDeadLetters(kafka, topic, options.topicPrefix, options.only ?? 'pending');
  const result: ReplayResult = { replayed: [], skipped: [] };
  for (const letter of letters) {
    if (!options.force) {
      try {
        await codec.decode(topic, letter.value);
      } catch (error) {
        if (!(error instanceof DecodeError && error.permanent)) throw error;
        result.skipped.push({ letter, why: error.message });
        continue;
      }
    }
    result.replayed.push(letter);
  }
  if (options.dryRun || letters.length === 0) return result;

  const groupId = replayGroup(topic, options.topicPrefix);
  const producer = kafka.producer({ transactionalId: groupId, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const transaction = await producer.transaction();
    try {
      if (result.replayed.length) {
        await transaction.send({
          topic: topic.name,
          acks: -1,
          messages: result.replayed.map((letter) => ({
            key: letter.key,
            value: letter.value,
            headers: replayHeaders(letter, deadLetterTopicName(topic.name)),
            // Without a key, the partition it was read from is the best guess.
            ...(letter.key === null && letter.source.partition !== '' ? { partition: Number(letter.source.partition) } : {}),
          })),
        });
      }
      if (!options.only) {
        const next = new Map<number, bigint>();
        for (const l of letters) next.set(l.partition, BigInt(l.offset) + 1n);
        await sendOffsetsWithRetry(transaction, {
          consumerGroupId: groupId,
          topics: [{ topic: deadLetterTopicName(topic.name), partitions: [...next].map(([partition, offset]) => ({ partition, offset: String(offset) })) }],
        });
      }
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => {});
      throw error;
    }
  } finally {
    await producer.disconnect();
  }
  return result;
}

function replayHeaders(letter: DeadLetter, from: string): IHeaders {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(letter.headers)) if (!name.startsWith('dlq_')) headers[name] = value;
  headers[REPLAYED_FROM_HEADER] = `${from}@${letter.partition}:${letter.offset}`;
  return headers;
}
