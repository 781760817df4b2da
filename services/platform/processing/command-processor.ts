// The write side of an aggregate: a consumer group on `<aggregate>.commands`,
// keyed by aggregate id, so one partition has exactly one owner and every
// aggregate's commands are decided strictly in log order, one at a time.
//
// Each owned partition's aggregate states live in memory (aggregate-store.ts), rebuilt from the same
// partition number of `<aggregate>.events` (the log is the truth, the store a
// cache): fully on first assignment, and from the last offset it reflected on
// later ones. A chunk's events, any commands it sends elsewhere, dead letters
// and the consumed offsets commit in one transaction (see exactly-once-loop.ts).
import type { Kafka, KafkaMessage, RecordMetadata } from 'kafkajs';
import { fold } from '../decider.ts';
import { fromHeaders, newId, toHeaders, type MessageMetadata } from '../headers.ts';
import { partitionOf } from '../kafka/partitioning.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Health } from '../runtime/health.ts';
import type { Codec } from '../schemas/codec.ts';
import { decodeOrPoison } from '../schemas/decode-or-poison.ts';
import { processorWrites, type AggregateDefinition, type Message, type Outbound } from './aggregate-definition.ts';
import { createAggregateStores } from './aggregate-store.ts';
import { createDueCommands } from './due-commands.ts';
import { deadLetterRecord } from './dead-letters.ts';
import { outboundCommand } from './outbound-command.ts';
import { createExactlyOnceLoop, type ExactlyOnceLoop, type OutboundRecord } from './exactly-once-loop.ts';

export type { AggregateDefinition, Message, Outbound } from './aggregate-definition.ts';
export { processorWrites } from './aggregate-definition.ts';

export interface CommandProcessorOptions<S, C extends Message, E extends Message, R extends string = string> {
  kafka: Kafka;
  codec: Codec;
  definition: AggregateDefinition<S, C, E, R>;
  groupId: string;
  logger: Logger;
  maxPerTransaction?: number;
  /** How often the timer looks for due work. */
  scheduleEveryMs?: number;
  /** Observe each decided command once its transaction committed (metrics, tests). */
  onDecided?: (info: Decided) => void;
  onTransaction?: (info: { partition: number; messages: number; records: number; ms: number }) => void;
  metrics?: Metrics;
  health?: Health;
}

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

export interface CommandProcessor {
  start(): Promise<void>;
  stop(): Promise<void>;
  readyPartitions(): number[];
}

export function createCommandProcessor<S, C extends Message, E extends Message, R extends string>(options: CommandProcessorOptions<S, C, E, R>): CommandProcessor {
  const { kafka, codec, definition, groupId, logger } = options;
  const { decider, commands, events } = definition;
  const stores = createAggregateStores({ kafka, codec, definition, groupId, logger });
  const storeFor = stores.storeFor;
  // Metric children, made once per label set rather than looked up per command.
  const latency = options.metrics?.commandLatency.labels(definition.name);
  const decidedCounters = new Map<string, { inc(): void }>();
  const countDecided = (command: string, outcome: string) => {
    if (!options.metrics) return;
    const key = `${command}|${outcome}`;
    let counter = decidedCounters.get(key);
    if (!counter) decidedCounters.set(key, (counter = options.metrics.commandsDecided.labels(definition.name, command, outcome)));
    counter.inc();
  };

  function outcomeRecords(aggregateId: string, partition: number, command: MessageMetadata, messages: { type: string; data: object }[], now: number) {
    return messages.map((message, index) => {
      const id = newId();
      const meta: MessageMetadata = {
        id,
        type: codec.fullName(events, message.type),
        source: definition.name,
        time: now,
        correlationId: command.correlationId,
        causationId: command.id,
        outcome: { index, count: messages.length },
      };
      const value = codec.encode(events, message);
      return { meta, record: { topic: events.name, partition, key: aggregateId, value, headers: toHeaders(meta) } satisfies OutboundRecord };
    });
  }

  function reactionRecords(outbound: Outbound[], cause: MessageMetadata, now: number): OutboundRecord[] {
    return outbound.map(({ topic, message }) => outboundCommand(codec, topic, message, { source: definition.name, time: now, correlationId: cause.correlationId, causationId: cause.id }));
  }

  async function handle(partition: number, messages: KafkaMessage[]) {
    const store = storeFor(partition);
    const overlay = new Map<string, S>();
    // Unique keys claimed (aggregate id) or freed (null) by this chunk so far.
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
      records.push(deadLetterRecord({ topic: commands.name, partition, message }, reason, groupId));
      decided.push({ type, outcome: 'dead-lettered', events: [], latencyMs: 0, commandId: meta.id, correlationId: meta.correlationId });
    };

    for (const message of messages) {
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
        latencyMs: Date.now() - meta.time,
        aggregateId,
        commandId: meta.id,
        correlationId: meta.correlationId,
      });
      try {
        const decision = decider.decide(state, command, { now, owner });
        if (decision.outcome === 'accepted') {
          const next = fold(decider, state, decision.events);
          const outcome = outcomeRecords(aggregateId, partition, meta, decision.events, now);
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
          const [outcome] = outcomeRecords(aggregateId, partition, meta, [answer], now);
          records.push(outcome!.record);
          eventsWritten++;
          decided.push(outcomeOf(decision.outcome, [answer]));
        }
      } catch (error) {
        // A decider is pure: retrying what threw would throw again.
        deadLetter(message, meta, `${command.type} could not be decided: ${(error as Error).message}`, command.type);
      }
    }

    return {
      records,
      committed(metadata: RecordMetadata[]) {
        for (const [id, state] of overlay) store.aggregates.set(id, state);
        for (const [k, id] of ownersOverlay) {
          if (id === null) store.owners.delete(k);
          else store.owners.set(k, id);
        }
        const written = metadata.find((m) => m.topicName === events.name && m.partition === partition);
        if (written && eventsWritten > 0) store.eventsOffset = BigInt(written.baseOffset ?? '0') + BigInt(eventsWritten);
        due.decided(overlay.keys());
        // Built only when someone reads it: at thousands of commands a second
        // the argument objects alone show up in the profile.
        const logDecided = logger.isLevelEnabled('info');
        for (const d of decided) {
          if (logDecided && d.outcome !== 'dead-lettered')
            logger.info(
              { correlationId: d.correlationId, commandId: d.commandId, command: d.type, aggregateId: d.aggregateId, outcome: d.outcome, events: d.events.map((e) => e.type) },
              'command decided',
            );
          countDecided(d.type, d.outcome);
          if (d.outcome !== 'dead-lettered') latency?.observe(d.latencyMs / 1000);
          options.onDecided?.(d);
        }
      },
      aborted() {
        // The overlay is simply dropped; re-preparing catches the store up
        // with whatever the transaction really wrote.
      },
    };
  }

  const loop: ExactlyOnceLoop = createExactlyOnceLoop({
    kafka,
    groupId,
    topic: commands.name,
    logger,
    concurrency: commands.partitions,
    ...(options.maxPerTransaction ? { maxPerTransaction: options.maxPerTransaction } : {}),
    ...(options.onTransaction ? { onTransaction: options.onTransaction } : {}),
    handlerName: `processor:${definition.name}`,
    metrics: options.metrics,
    health: options.health,
    handler: {
      prepare: stores.restore,
      handle,
      release: stores.release,
    },
  });

  const due = createDueCommands({ kafka, codec, definition, stores, readyPartitions: () => loop.readyPartitions(), logger, everyMs: options.scheduleEveryMs ?? 1000 });

  return {
    async start() {
      // A reaction the codec cannot encode would dead-letter every command that causes it.
      const unwritable = processorWrites(definition).filter((t) => !codec.writes(t));
      if (unwritable.length) throw new Error(`the ${definition.name} processor writes ${unwritable.map((t) => t.name).join(', ')}, which its codec was not given`);
      await loop.start();
      await due.start();
    },
    async stop() {
      await due.stop();
      await loop.stop();
    },
    readyPartitions: () => loop.readyPartitions(),
  };
}
