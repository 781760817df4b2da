// The write side of an aggregate: a consumer group on `<aggregate>.commands`,
// keyed by aggregate id, so one partition has exactly one owner and every
// aggregate's commands are decided strictly in log order, one at a time.
//
// Each owned partition's aggregate states live in memory (aggregate-store.ts), rebuilt from the same
// partition number of `<aggregate>.events` (the log is the truth, the store a
// cache): fully on first assignment, and from the last offset it reflected on
// later ones. A chunk is decided by decide-commands.ts; its events, any
// commands it sends elsewhere, dead letters and the consumed offsets commit in
// one transaction (see exactly-once-loop.ts), and only then do its new states
// enter the store.
import type { Kafka, KafkaMessage, RecordMetadata } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Health } from '../runtime/health.ts';
import type { Codec } from '../schemas/codec.ts';
import { processorWrites, type AggregateDefinition, type Message } from './aggregate-definition.ts';
import { createAggregateStores } from './aggregate-store.ts';
import { createDueCommands } from './due-commands.ts';
import { decideCommands, type Decided } from './decide-commands.ts';
import { createExactlyOnceLoop, type ExactlyOnceLoop } from './exactly-once-loop.ts';

export type { AggregateDefinition, Message, Outbound } from './aggregate-definition.ts';
export { processorWrites } from './aggregate-definition.ts';
export type { Decided } from './decide-commands.ts';

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

export interface CommandProcessor {
  start(): Promise<void>;
  stop(): Promise<void>;
  readyPartitions(): number[];
}

export function createCommandProcessor<S, C extends Message, E extends Message, R extends string>(options: CommandProcessorOptions<S, C, E, R>): CommandProcessor {
  const { kafka, codec, definition, groupId, logger } = options;
  const { commands, events } = definition;
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

  async function handle(partition: number, messages: KafkaMessage[]) {
    const store = storeFor(partition);
    const { records, decided, states, owners, eventsWritten } = await decideCommands({ definition, codec, store, partition, messages, groupId, logger });
    return {
      records,
      committed(metadata: RecordMetadata[]) {
        for (const [id, state] of states) store.aggregates.set(id, state);
        for (const [k, id] of owners) {
          if (id === null) store.owners.delete(k);
          else store.owners.set(k, id);
        }
        const written = metadata.find((m) => m.topicName === events.name && m.partition === partition);
        if (written && eventsWritten > 0) store.eventsOffset = BigInt(written.baseOffset ?? '0') + BigInt(eventsWritten);
        due.decided(states.keys());
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
