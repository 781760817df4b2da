// Deciding one chunk of a partition's commands, with no I/O of its own: each
// message is decoded (poison is dead-lettered), checked for its key and
// partition, and decided against the aggregate's state (the store's, or the
// one an earlier command of the chunk left); what it decides becomes records
// for the chunk's transaction: outcome events, the commands its reactions send
// elsewhere, and dead letters. The store is only read: the new states and
// unique-key owners come back, for the caller to keep once the transaction
// commits (command-processor.ts).
import type { KafkaMessage } from 'kafkajs';
import { fold } from '../decider.ts';
import { causedBy, fromHeaders, newId, toHeaders, type MessageMetadata } from '../headers.ts';
import { partitionOf } from '../kafka/partitioning.ts';
import type { Logger } from '../logger.ts';
import type { Codec } from '../schemas/codec.ts';
import { decodeOrPoison, type Decoding } from '../schemas/decode-or-poison.ts';
import type { RecordMap } from '../topics.ts';
import type { AggregateDefinition, Message, Outbound } from './aggregate-definition.ts';
import { deadLetterRecord } from './dead-letters.ts';
import { outboundCommand } from './outbound-command.ts';
import type { OutboundRecord } from './outbound-record.ts';

export interface Decided {
  type: string;
  outcome: 'accepted' | 'unchanged' | 'rejected' | 'dead-lettered';
  /** The events the command produced. */
  events: Message[];
  /** From the command being issued to its outcome being decided. */
  latencyMs: number;
  aggregateId?: string;
  commandId?: string;
  correlationId?: string;
}

/** What deciding needs of a codec: reading commands, writing events and commands. */
export type CommandCodec = Decoding<RecordMap> & Pick<Codec, 'encode' | 'fullName'>;

export interface CommandChunk<S, C extends Message, E extends Message, R extends string = string> {
  definition: AggregateDefinition<S, C, E, R>;
  codec: CommandCodec;
  /** The partition's aggregates and unique-key owners as of the last commit; only read. */
  store: { readonly aggregates: ReadonlyMap<string, S>; readonly owners: ReadonlyMap<string, string> };
  /** The commands partition the messages come from. */
  partition: number;
  /** Consumed in log order. Each command is decided at its own time (ce_time, else the record's timestamp). */
  messages: KafkaMessage[];
  /** Named in dead letters as the consumer that gave up on them. */
  groupId: string;
  logger: Logger;
  /** Wall clock for latencies and dead letters' time (Date.now). */
  clock?: () => number;
}

export interface DecidedChunk<S> {
  /** For the transaction, in the order decided: events, outbound commands and dead letters. */
  records: OutboundRecord[];
  /** One per message. */
  decided: Decided[];
  /** Aggregate states the chunk changed, as of its end. */
  states: Map<string, S>;
  /** Unique keys claimed (aggregate id) or freed (null) by the chunk. */
  owners: Map<string, string | null>;
  /** Records written to the events partition. */
  eventsWritten: number;
}

/** Throws, deciding nothing, when a command cannot be decoded yet (the registry away): the chunk is retried. */
export async function decideCommands<S, C extends Message, E extends Message, R extends string>(chunk: CommandChunk<S, C, E, R>): Promise<DecidedChunk<S>> {
  const { definition, codec, store, partition, groupId, logger, clock = Date.now } = chunk;
  const { decider, commands, events } = definition;
  const overlay = new Map<string, S>();
  const ownersOverlay = new Map<string, string | null>();
  const owner = (k: string) => (ownersOverlay.has(k) ? (ownersOverlay.get(k) ?? undefined) : store.owners.get(k));
  const claim = (id: string, before: S, after: S) => {
    if (!definition.uniqueKeys) return;
    const old = new Set(definition.uniqueKeys(before));
    const now = new Set(definition.uniqueKeys(after));
    for (const k of old) if (!now.has(k) && owner(k) === id) ownersOverlay.set(k, null);
    for (const k of now) if (!old.has(k)) ownersOverlay.set(k, id);
  };
  const records: OutboundRecord[] = [];
  const decided: Decided[] = [];
  let eventsWritten = 0;
  const deadLetter = (message: KafkaMessage, meta: MessageMetadata, reason: string, type = 'unknown') => {
    logger.warn({ topic: commands.name, partition, offset: message.offset, reason, correlationId: meta.correlationId }, 'command dead-lettered');
    records.push(deadLetterRecord({ topic: commands.name, partition, message }, reason, groupId, clock()));
    decided.push({ type, outcome: 'dead-lettered', events: [], latencyMs: 0, commandId: meta.id, correlationId: meta.correlationId });
  };

  function outcomeRecords(aggregateId: string, command: MessageMetadata, messages: Message[], now: number) {
    return messages.map((message, index) => {
      const meta: MessageMetadata = {
        id: newId(),
        type: codec.fullName(events, message.type),
        source: definition.name,
        time: now,
        ...causedBy(command),
        outcome: { index, count: messages.length },
      };
      const value = codec.encode(events, message);
      return { meta, record: { topic: events.name, partition, key: aggregateId, value, headers: toHeaders(meta) } satisfies OutboundRecord };
    });
  }

  function reactionRecords(outbound: Outbound[], cause: MessageMetadata, now: number): OutboundRecord[] {
    return outbound.map(({ topic, message }) => outboundCommand(codec, topic, message, { source: definition.name, time: now, ...causedBy(cause) }));
  }

  for (const message of chunk.messages) {
    const meta = fromHeaders(message.headers, Number(message.timestamp));
    const decoded = await decodeOrPoison(codec, commands, message.value); // throws while the registry is away: the chunk is retried
    if (!decoded.ok) {
      deadLetter(message, meta, decoded.poison);
      continue;
    }
    const command = decoded.message as C;
    const key = message.key?.toString();
    const aggregateId = String((command.data as Record<string, unknown>)[commands.key]);
    if (key !== aggregateId) {
      deadLetter(message, meta, `message key '${key ?? ''}' does not match ${commands.key} '${aggregateId}'`);
      continue;
    }
    const expected = partitionOf(aggregateId, commands.partitions);
    if (expected !== partition) {
      deadLetter(message, meta, `key '${aggregateId}' belongs to partition ${expected}, found in ${partition}: produced with another partitioner`);
      continue;
    }
    const now = meta.time;
    const state = overlay.get(aggregateId) ?? store.aggregates.get(aggregateId) ?? decider.initialState;
    const outcomeOf = (outcome: Decided['outcome'], events: Message[]): Decided => ({
      type: command.type,
      outcome,
      events,
      latencyMs: clock() - meta.time,
      aggregateId,
      commandId: meta.id,
      correlationId: meta.correlationId,
    });
    try {
      const decision = decider.decide(state, command, { now, owner });
      if (decision.outcome === 'accepted') {
        const next = fold(decider, state, decision.events);
        const outcome = outcomeRecords(aggregateId, meta, decision.events, now);
        records.push(...outcome.map((o) => o.record));
        eventsWritten += outcome.length;
        if (definition.react) {
          const reactions = definition.react(aggregateId, decision.events, next);
          if (reactions.length) records.push(...reactionRecords(reactions, outcome[0]!.meta, now));
        }
        claim(aggregateId, state, next);
        overlay.set(aggregateId, next);
        decided.push(outcomeOf('accepted', decision.events));
      } else {
        // Nothing changes, and the answer still goes on the log: whoever waits for it gets it at once.
        const answer: Message =
          decision.outcome === 'rejected'
            ? { type: 'CommandRejected', data: { aggregateId, commandType: command.type, code: decision.code, message: decision.message, occurredAt: now } }
            : { type: 'CommandUnchanged', data: { aggregateId, commandType: command.type, reason: decision.reason, message: decision.message, occurredAt: now } };
        const [outcome] = outcomeRecords(aggregateId, meta, [answer], now);
        records.push(outcome!.record);
        eventsWritten++;
        decided.push(outcomeOf(decision.outcome, [answer]));
      }
    } catch (error) {
      // A decider is pure: retrying what threw would throw again.
      deadLetter(message, meta, `${command.type} could not be decided: ${(error as Error).message}`, command.type);
    }
  }

  return { records, decided, states: overlay, owners: ownersOverlay, eventsWritten };
}
