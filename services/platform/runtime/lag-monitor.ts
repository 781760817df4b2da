// Every few seconds: where each consumer group this service runs has committed
// to, against the end of its partitions (consumer lag), and the end of every
// topic the service reads. Metrics only: readiness follows the cluster probe
// (cluster-probe.ts), which a slow lag check cannot hold up.
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

export interface ConsumedTopic {
  topic: string;
  /** The group that commits its position in Kafka; absent when positions live elsewhere (read models). */
  groupId?: string;
}

export interface LagMonitorOptions {
  kafka: Kafka;
  metrics: Metrics;
  logger: Logger;
  /** What the service's running components consume. */
  consumes: () => ConsumedTopic[];
  intervalMs?: number;
}

export function createLagMonitor(options: LagMonitorOptions) {
  const { kafka, metrics, logger } = options;
  let admin: Admin | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function check(): Promise<void> {
    admin ??= kafka.admin({ retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1_000 } });
    try {
      await admin.connect();
      const ends = new Map<string, Map<number, { high: bigint; low: bigint }>>();
      const consumed = options.consumes();
      const topics = new Set(consumed.map((c) => c.topic));
      for (const topic of topics) {
        const offsets = await admin.fetchTopicOffsets(topic);
        ends.set(topic, new Map(offsets.map((o) => [o.partition, { high: BigInt(o.high), low: BigInt(o.low) }])));
        for (const o of offsets) metrics.logEnd.set({ topic, partition: String(o.partition) }, Number(o.high));
      }
      for (const { groupId, topic } of consumed) {
        if (!groupId) continue;
        const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const p of entry?.partitions ?? []) {
          const end = ends.get(topic)?.get(p.partition);
          if (!end) continue;
          // -1: nothing committed yet; everything still in the log is to do.
          const committed = p.offset === '-1' ? end.low : BigInt(p.offset);
          metrics.consumerLag.set({ group: groupId, topic, partition: String(p.partition) }, Number(end.high > committed ? end.high - committed : 0n));
        }
      }
    } catch (error) {
      logger.debug({ error: (error as Error).message }, 'lag check failed');
      // A fresh client next time: kafkajs' admin may hold dead connections.
      const stale = admin;
      admin = undefined;
      await stale.disconnect().catch(() => {});
    }
  }

  const tick = () => {
    running ??= check()
      .catch((error: unknown) => logger.warn({ error: (error as Error).message }, 'lag check failed'))
      .finally(() => (running = undefined));
    return running;
  };

  return {
    async start() {
      await tick();
      timer = setInterval(tick, options.intervalMs ?? 5_000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
      await admin?.disconnect().catch(() => {});
    },
  };
}
