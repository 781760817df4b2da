// A consumer that comes back after any crash. kafkajs restarts a consumer after
// retriable errors only; some errors a broker restart causes are classed as
// non-retriable ("Failed to find group coordinator", kafkajs issues #1445 and
// #1630) and leave the consumer stopped for good. Here such a crash builds a
// new consumer, after a backoff, and sets it up again; only a consumer that
// cannot be brought back for minutes makes the process not live.
import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Health } from '../runtime/health.ts';

export interface SupervisedConsumerOptions {
  kafka: Kafka;
  config: ConsumerConfig;
  /** Listeners, connect, subscribe and run: everything a fresh consumer needs. */
  setup(consumer: Consumer): Promise<void>;
  logger: Logger;
  metrics?: Metrics;
  health?: Health;
}

/** Restarts in a row that may fail before the process is declared not live. */
const MAX_FAILED_RESTARTS = 10;

export interface SupervisedConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The consumer running now (replaced after a crash). */
  current(): Consumer | undefined;
}

export function superviseConsumer(options: SupervisedConsumerOptions): SupervisedConsumer {
  const { kafka, config, logger } = options;
  const groupId = config.groupId;
  let consumer: Consumer | undefined;
  let stopping = false;
  let failedRestarts = 0;
  let timer: NodeJS.Timeout | undefined;

  async function launch(): Promise<void> {
    const fresh = kafka.consumer(config);
    consumer = fresh;
    fresh.on(fresh.events.CRASH, ({ payload }) => {
      options.metrics?.consumerCrashes.inc({ group: groupId, restarted: String(payload.restart) });
      if (payload.restart || stopping || consumer !== fresh) return; // kafkajs restarts it itself
      logger.warn({ groupId, error: `${payload.error.name}: ${payload.error.message}` }, 'consumer stopped by a non-retriable error; replacing it');
      scheduleRestart();
    });
    await options.setup(fresh);
  }

  function scheduleRestart(): void {
    const delay = Math.min(30_000, 1_000 * 2 ** failedRestarts) * (0.8 + Math.random() * 0.4);
    timer = setTimeout(() => {
      void (async () => {
        if (stopping) return;
        await consumer?.disconnect().catch(() => {});
        try {
          await launch();
          failedRestarts = 0;
          logger.info({ groupId }, 'consumer replaced');
        } catch (error) {
          failedRestarts++;
          logger.warn({ groupId, attempt: failedRestarts, error: (error as Error).message }, 'replacing the consumer failed');
          if (failedRestarts >= MAX_FAILED_RESTARTS) options.health?.fatal(`consumer group ${groupId} could not be restarted ${failedRestarts} times in a row: ${(error as Error).message}`);
          scheduleRestart();
        }
      })();
    }, delay);
    timer.unref();
  }

  return {
    async start() {
      stopping = false;
      await launch();
    },
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      await consumer?.disconnect(); // waits for the batch in hand, then leaves the group
    },
    current: () => consumer,
  };
}
