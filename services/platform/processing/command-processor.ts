// The write side of an aggregate: a consumer group on `<aggregate>.commands`,
// keyed by aggregate id, so one partition has exactly one owner and every
// aggregate's commands are decided strictly in log order, one at a time.
//
// Each owned partition's aggregate states live in memory, rebuilt from the same
// partition number of `<aggregate>.events` (the log is the truth, the store a
// cache): fully on first assignment, and from the last offset it reflected on
// later ones. A chunk's events, any commands it sends elsewhere, dead letters
// and the consumed offsets commit in one transaction (see exactly-once-loop.ts).
import type { Kafka, KafkaMessage, RecordMetadata } from 'kafkajs';
import { fold, type Decider } from '../decider.ts';
import { fromHeaders, newId, toHeaders, type MessageMetadata } from '../headers.ts';
import { partitionOf } from '../kafka/partitioning.ts';
import { createSafeProducer } from '../kafka/producer.ts';
import { readPartitions } from '../kafka/partition-reader.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Health } from '../runtime/health.ts';
import { DecodeError, type Codec } from '../schemas/codec.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';
import { deadLetterRecord } from './dead-letters.ts';
import { outboundCommand } from './outbound-command.ts';
import { createExactlyOnceLoop, type ExactlyOnceLoop, type OutboundRecord } from './exactly-once-loop.ts';

export type Message = { type: string; data: object };

/** A command for another aggregate, sent in the same transaction as the events that caused it. */
export interface Outbound {
  topic: TopicDescriptor;
  message: Message;
}

export interface AggregateDefinition<S, C extends Message, E extends Message, R extends string = string> {
  /** Service name, the events' ce_source. */
  name: string;
  decider: Decider<S, C, E, R>;
  commands: TopicDescriptor;
  events: TopicDescriptor;
  versionOfState(state: S): number;
  /** Version an event carries; undefined for records that change no state. */
  versionOfEvent(event: E): number | undefined;
  /** Work that falls due by time alone (reservation expiry, saga timeouts). */
  schedule?: {
    dueAt(state: S): number | undefined;
    command(aggregateId: string, dueAt: number): C;
  };
  /** Commands other aggregates must receive because of these events, sent in the same transaction. */
  react?(aggregateId: string, events: E[], state: S): Outbound[];
  /** The command topics `react` sends to (the codec must be able to write them). */
  reactsTo?: TopicDescriptor[];
  /**
   * Keys an aggregate's state claims, unique among the aggregates of one
   * partition (a product's SKUs). Deciders see who holds a key through
   * CommandContext.owner.
   */
  uniqueKeys?(state: S): string[];
}

/** Every topic a processor of this aggregate writes: its timers' commands, its events, and its reactions. */
export function processorWrites(definition: Pick<AggregateDefinition<never, never, never>, 'commands' | 'events' | 'reactsTo'>): TopicDescriptor[] {
  return [definition.commands, definition.events, ...(definition.reactsTo ?? [])];
}

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

interface PartitionStore<S> {
  aggregates: Map<string, S>;
  /** Unique key -> the aggregate holding it. */
  owners: Map<string, string>;
  /** Next offset of the events partition not yet reflected in `aggregates`. */
  eventsOffset: bigint;
}

export function createCommandProcessor<S, C extends Message, E extends Message, R extends string>(options: CommandProcessorOptions<S, C, E, R>): CommandProcessor {
  const { kafka, codec, definition, groupId, logger } = options;
  const { decider, commands, events } = definition;
  const stores = new Map<number, PartitionStore<S>>();
  // Aggregates whose due command was sent, and when: not sent again for 30s.
  let pendingTimers = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  const timerProducer = createSafeProducer(kafka);
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

  const storeFor = (partition: number): PartitionStore<S> => {
    let store = stores.get(partition);
    if (!store) {
      store = { aggregates: new Map(), owners: new Map(), eventsOffset: 0n };
      stores.set(partition, store);
    }
    return store;
  };

  async function restore(partitions: number[], heartbeat: () => Promise<void>): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    let offsets: { partition: number; high: string; low: string }[];
    try {
      offsets = await admin.fetchTopicOffsets(events.name);
    } finally {
      await admin.disconnect();
    }
    const ranges = partitions.map((partition) => {
      const store = storeFor(partition);
      const end = offsets.find((o) => o.partition === partition);
      const high = BigInt(end?.high ?? '0');
      const low = BigInt(end?.low ?? '0');
      if (store.eventsOffset > high) {
        // The events partition is shorter than what we reflected: it was recreated.
        logger.warn({ partition, had: String(store.eventsOffset), high: String(high) }, 'events partition shrank; restoring from scratch');
        store.aggregates.clear();
        store.eventsOffset = 0n;
      }
      if (store.eventsOffset < low) {
        throw new Error(`${events.name}[${partition}] starts at offset ${low}: its history was deleted, so the aggregates of this partition cannot be rebuilt`);
      }
      return { partition, from: store.eventsOffset, to: high };
    });
    const started = Date.now();
    let applied = 0;
    await readPartitions({
      kafka,
      topic: events.name,
      ranges,
      groupPrefix: `${groupId}-restore`,
      onProgress: heartbeat,
      onBatch: async (partition, messages) => {
        const store = storeFor(partition);
        for (const message of messages) {
          let event: Message;
          try {
            event = (codec.decodeKnown(events, message.value) ?? (await codec.decode(events, message.value))).message;
          } catch (error) {
            if (!(error instanceof DecodeError && error.permanent)) throw error;
            // Not one of ours: this processor only appends what it can read. Its
            // readers dead-letter it; the state never contained it.
            logger.warn({ topic: events.name, partition, offset: message.offset, reason: error.message }, 'skipping an undecodable event while restoring');
            continue;
          }
          const version = definition.versionOfEvent(event as E);
          const id = message.key?.toString();
          if (version === undefined || !id) continue;
          const state = store.aggregates.get(id) ?? decider.initialState;
          // Applied at most once, whatever offset the catch-up starts from.
          if (version <= definition.versionOfState(state)) continue;
          store.aggregates.set(id, decider.evolve(state, event as E));
          applied++;
        }
      },
    });
    for (const r of ranges) {
      const store = storeFor(r.partition);
      store.eventsOffset = r.to;
      if (definition.uniqueKeys) {
        store.owners.clear();
        for (const [id, state] of store.aggregates) for (const k of definition.uniqueKeys(state)) store.owners.set(k, id);
      }
    }
    logger.info({ topic: events.name, partitions, applied, ms: Date.now() - started }, 'aggregate state restored');
  }

  function outcomeRecords(
    aggregateId: string,
    partition: number,
    command: MessageMetadata,
    messages: { type: string; data: object }[],
    now: number,
  ) {
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
        const value = codec.encode(events, message as TopicMessage<RecordMap>);
        return { meta, record: { topic: events.name, partition, key: aggregateId, value, headers: toHeaders(meta) } satisfies OutboundRecord };
      });
  }

  function reactionRecords(outbound: Outbound[], cause: MessageMetadata, now: number): OutboundRecord[] {
    return outbound.map(({ topic, message }) =>
      outboundCommand(codec, topic, message as TopicMessage<RecordMap>, { source: definition.name, time: now, correlationId: cause.correlationId, causationId: cause.id }),
    );
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
      let command: C;
      try {
        command = (codec.decodeKnown(commands, message.value) ?? (await codec.decode(commands, message.value))).message as C;
      } catch (error) {
        if (error instanceof DecodeError && error.permanent) {
          deadLetter(message, meta, `undecodable: ${error.message}`);
          continue;
        }
        throw error; // the registry is unreachable: retry the chunk later
      }
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
        type: command.type, outcome, events, latencyMs: Date.now() - meta.time, aggregateId, commandId: meta.id, correlationId: meta.correlationId,
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
        for (const id of overlay.keys()) pendingTimers.delete(id);
        // Built only when someone reads it: at thousands of commands a second
        // the argument objects alone show up in the profile.
        const logDecided = logger.isLevelEnabled('info');
        for (const d of decided) {
          if (logDecided && d.outcome !== 'dead-lettered') logger.info({ correlationId: d.correlationId, commandId: d.commandId, command: d.type, aggregateId: d.aggregateId, outcome: d.outcome, events: d.events.map((e) => e.type) }, 'command decided');
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
      prepare: restore,
      handle,
      release(partitions) {
        for (const p of partitions) stores.delete(p);
      },
    },
  });

  // Due work becomes a command on the aggregate's own partition, so it is
  // decided in order with everything else (and by whoever owns it by then).
  async function tick(): Promise<void> {
    if (!definition.schedule) return;
    const now = Date.now();
    const due: { id: string; partition: number }[] = [];
    // Rebuilt each tick, so it holds only aggregates still due: an id whose
    // command was decided (or whose partition moved away) is forgotten.
    const stillPending = new Map<string, number>();
    for (const partition of loop.readyPartitions()) {
      for (const [id, state] of stores.get(partition)?.aggregates ?? []) {
        const dueAt = definition.schedule.dueAt(state);
        if (dueAt === undefined || dueAt > now) continue;
        const pendingSince = pendingTimers.get(id);
        if (pendingSince !== undefined && now - pendingSince < 30_000) {
          stillPending.set(id, pendingSince);
          continue;
        }
        stillPending.set(id, now);
        due.push({ id, partition });
      }
    }
    pendingTimers = stillPending;
    if (due.length === 0) return;
    const messages = due.map(({ id, partition }) => {
      const command = definition.schedule!.command(id, now);
      const meta: MessageMetadata = { id: newId(), type: codec.fullName(commands, command.type), source: `${definition.name}-timer`, time: now, correlationId: newId() };
      return { key: id, partition, value: codec.encode(commands, command as TopicMessage<RecordMap>), headers: toHeaders(meta) };
    });
    await timerProducer.send({ topic: commands.name, messages });
  }

  return {
    async start() {
      // A reaction the codec cannot encode would dead-letter every command that causes it.
      const unwritable = processorWrites(definition).filter((t) => !codec.writes(t));
      if (unwritable.length) throw new Error(`the ${definition.name} processor writes ${unwritable.map((t) => t.name).join(', ')}, which its codec was not given`);
      await timerProducer.connect();
      await loop.start();
      if (definition.schedule) {
        const every = options.scheduleEveryMs ?? 1000;
        timer = setInterval(() => {
          tick().catch((error: unknown) => logger.warn({ error: (error as Error).message }, 'timer could not issue due commands'));
        }, every);
        timer.unref();
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      await loop.stop();
      await timerProducer.disconnect();
    },
    readyPartitions: () => loop.readyPartitions(),
  };
}
