// Work that falls due by time alone (a reservation's expiry, a saga's
// timeout) becomes a command on the aggregate's own partition, so it is
// decided in order with everything else, by whoever owns the partition by then.
import type { Kafka } from 'kafkajs';
import { newId, toHeaders, type MessageMetadata } from '../headers.ts';
import { createSafeProducer } from '../kafka/producer.ts';
import type { Logger } from '../logger.ts';
import type { Codec } from '../schemas/codec.ts';
import type { AggregateDefinition, Message } from './aggregate-definition.ts';
import type { AggregateStores } from './aggregate-store.ts';

/** A due command not yet decided is not sent again for this long. */
const RESEND_AFTER_MS = 30_000;

export function createDueCommands<S, C extends Message, E extends Message, R extends string>(options: {
  kafka: Kafka;
  codec: Codec;
  definition: AggregateDefinition<S, C, E, R>;
  stores: AggregateStores<S>;
  readyPartitions(): number[];
  logger: Logger;
  everyMs: number;
}) {
  const { codec, definition, stores, logger } = options;
  const { commands, schedule } = definition;
  const producer = createSafeProducer(options.kafka);
  // Aggregates whose due command was sent, and when.
  let pending = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;

  async function tick(): Promise<void> {
    if (!schedule) return;
    const now = Date.now();
    const due: { id: string; partition: number }[] = [];
    // Rebuilt each tick, so it holds only aggregates still due: an id whose
    // command was decided (or whose partition moved away) is forgotten.
    const stillPending = new Map<string, number>();
    for (const partition of options.readyPartitions()) {
      for (const [id, state] of stores.get(partition)?.aggregates ?? []) {
        const dueAt = schedule.dueAt(state);
        if (dueAt === undefined || dueAt > now) continue;
        const pendingSince = pending.get(id);
        if (pendingSince !== undefined && now - pendingSince < RESEND_AFTER_MS) {
          stillPending.set(id, pendingSince);
          continue;
        }
        stillPending.set(id, now);
        due.push({ id, partition });
      }
    }
    pending = stillPending;
    if (due.length === 0) return;
    const messages = due.map(({ id, partition }) => {
      const command = schedule.command(id, now);
      const meta: MessageMetadata = { id: newId(), type: codec.fullName(commands, command.type), source: `${definition.name}-timer`, time: now, correlationId: newId() };
      return { key: id, partition, value: codec.encode(commands, command), headers: toHeaders(meta) };
    });
    await producer.send({ topic: commands.name, messages });
  }

  return {
    async start() {
      await producer.connect();
      if (!schedule) return;
      timer = setInterval(() => {
        tick().catch((error: unknown) => logger.warn({ error: (error as Error).message }, 'timer could not issue due commands'));
      }, options.everyMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await producer.disconnect();
    },
    /** These aggregates' commands were decided: what is due for them now is new. */
    decided(ids: Iterable<string>) {
      for (const id of ids) pending.delete(id);
    },
  };
}
