// A consumer that comes back after any crash. kafkajs restarts a consumer after
// retriable errors only; some errors a broker restart causes are classed as
// non-retriable ("Failed to find group coordinator", kafkajs issues #1445 and
// #1630) and leave the consumer stopped for good. Here such a crash builds a
// new consumer, after a backoff, and sets it up again; only a consumer that
// cannot be brought back for minutes makes the process not live.
//
// kafkajs's own restart is switched off (restartOnFailure): it calls start()
// from a timer and races whatever the application does meanwhile. Every
// crash comes here instead, one replacement at a time, each step bounded.
import { timeout, TimeoutStrategy } from 'cockatiel';
import type { Consumer, ConsumerConfig } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Health } from '../runtime/health.ts';

/** What the supervisor needs of a consumer (a kafkajs Consumer has it). */
export type SupervisableConsumer = Pick<Consumer, 'on' | 'events' | 'disconnect'>;

export interface SupervisorTiming {
  /** First backoff before a replacement; it doubles per failed attempt up to `maxBackoffMs` (with ±20% jitter). */
  backoffMs: number;
  maxBackoffMs: number;
  /**
   * A running consumer fetches (or heartbeats, inside a long batch) every few
   * seconds. One that has done neither for this long has stopped without a
   * crash event: it is replaced like a crashed one.
   */
  stalledAfterMs: number;
  watchEveryMs: number;
  /** How long a replaced consumer may take to leave, and a new one to join, before the attempt counts as failed. */
  disconnectBoundMs: number;
  launchBoundMs: number;
}

const TIMING: SupervisorTiming = { backoffMs: 1_000, maxBackoffMs: 30_000, stalledAfterMs: 90_000, watchEveryMs: 10_000, disconnectBoundMs: 30_000, launchBoundMs: 120_000 };

/** Restarts in a row that may fail before the process is declared not live. */
const MAX_FAILED_RESTARTS = 10;

export interface SupervisedConsumerOptions<C extends SupervisableConsumer> {
  kafka: { consumer(config: ConsumerConfig): C };
  config: ConsumerConfig;
  /** Listeners, connect, subscribe and run: everything a fresh consumer needs. */
  setup(consumer: C): Promise<void>;
  logger: Logger;
  metrics?: Metrics;
  health?: Pick<Health, 'fatal'>;
  /** The defaults suit production; tests shorten them. */
  timing?: Partial<SupervisorTiming>;
}

export interface SupervisedConsumer<C extends SupervisableConsumer = Consumer> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The consumer running now (replaced after a crash). */
  current(): C | undefined;
}

/** `work`, or a TaskCancelledError once `ms` passed (the work itself goes on; nothing waits for it). */
function bounded(work: Promise<void> | undefined, ms: number): Promise<void> {
  return timeout(ms, TimeoutStrategy.Aggressive).execute(() => work ?? Promise.resolve());
}

class ConsumerCrashed extends Error {}

export function superviseConsumer<C extends SupervisableConsumer>(options: SupervisedConsumerOptions<C>): SupervisedConsumer<C> {
  const { kafka, config, logger } = options;
  const timing = { ...TIMING, ...options.timing };
  const groupId = config.groupId;
  let consumer: C | undefined;
  let stopping = false;
  let failedRestarts = 0;
  let timer: NodeJS.Timeout | undefined;
  let replacing = false;
  let watchdog: NodeJS.Timeout | undefined;
  let lastActivity = Date.now();

  async function launch(): Promise<void> {
    const fresh = kafka.consumer({ ...config, retry: { ...config.retry, restartOnFailure: async () => false } });
    consumer = fresh;
    // kafkajs's run() resolves even when joining crashed: a crash before setup
    // returned fails this launch, so it is not mistaken for a running consumer.
    let launching = true;
    let crashedWhileLaunching: Error | undefined;
    fresh.on(fresh.events.CRASH, ({ payload }) => {
      options.metrics?.consumerCrashes.inc({ group: groupId, restarted: String(payload.restart) });
      if (stopping || consumer !== fresh) return;
      if (launching) {
        crashedWhileLaunching ??= new ConsumerCrashed(`${payload.error.name}: ${payload.error.message}`);
        return;
      }
      logger.warn({ groupId, error: `${payload.error.name}: ${payload.error.message}` }, 'consumer crashed; replacing it');
      scheduleRestart();
    });
    const alive = () => (lastActivity = Date.now());
    fresh.on(fresh.events.FETCH_START, alive);
    fresh.on(fresh.events.HEARTBEAT, alive);
    fresh.on(fresh.events.GROUP_JOIN, alive);
    lastActivity = Date.now();
    try {
      await options.setup(fresh);
    } finally {
      launching = false;
    }
    if (crashedWhileLaunching) throw crashedWhileLaunching;
  }

  function watch(): void {
    watchdog = setInterval(() => {
      if (stopping || replacing || Date.now() - lastActivity < timing.stalledAfterMs) return;
      logger.warn({ groupId, silentForMs: Date.now() - lastActivity }, 'consumer stalled (no fetch or heartbeat); replacing it');
      options.metrics?.consumerCrashes.inc({ group: groupId, restarted: 'stalled' });
      scheduleRestart();
    }, timing.watchEveryMs);
    watchdog.unref();
  }

  /** One replacement at a time, from the backoff until the new consumer runs or the attempt failed. */
  function scheduleRestart(): void {
    if (replacing || stopping) return;
    replacing = true;
    const delay = Math.min(timing.maxBackoffMs, timing.backoffMs * 2 ** failedRestarts) * (0.8 + Math.random() * 0.4);
    timer = setTimeout(() => void replace(), delay);
    timer.unref();
  }

  async function replace(): Promise<void> {
    timer = undefined;
    if (stopping) return;
    // A stalled consumer may never finish leaving (its batch in hand never
    // returns): give up on it after a bound. Its session then lapses, and its
    // partitions' next owner fences whatever it still tries to commit.
    await bounded(consumer?.disconnect(), timing.disconnectBoundMs).catch(() => {});
    try {
      await bounded(launch(), timing.launchBoundMs);
      failedRestarts = 0;
      replacing = false;
      logger.info({ groupId }, 'consumer replaced');
    } catch (error) {
      failedRestarts++;
      replacing = false;
      logger.warn({ groupId, attempt: failedRestarts, error: (error as Error).message }, 'replacing the consumer failed');
      if (failedRestarts >= MAX_FAILED_RESTARTS) options.health?.fatal(`consumer group ${groupId} could not be restarted ${failedRestarts} times in a row: ${(error as Error).message}`);
      scheduleRestart();
    }
  }

  return {
    async start() {
      stopping = false;
      try {
        await launch();
      } catch (error) {
        if (!(error instanceof ConsumerCrashed)) throw error;
        logger.warn({ groupId, error: error.message }, 'consumer crashed while starting; replacing it');
        scheduleRestart();
      }
      watch();
    },
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      if (watchdog) clearInterval(watchdog);
      await consumer?.disconnect(); // waits for the batch in hand, then leaves the group
    },
    current: () => consumer,
  };
}
