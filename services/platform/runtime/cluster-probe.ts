// Asks the Kafka cluster for its metadata every `intervalMs`, each probe bounded
// by `timeoutMs`, and tells Health when it answered. The probe has a client of
// its own with a small retry budget: the services' clients retry a dead broker
// for tens of seconds (kafkajs' cluster-level retries, whatever an admin's own
// setting), which is right for their work and wrong for a health check.
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { Health } from './health.ts';

export interface ClusterProbeOptions {
  /** A client made for probing: few retries, short connection and request timeouts. */
  kafka: Kafka;
  health: Health;
  logger: Logger;
  intervalMs?: number;
  timeoutMs?: number;
}

export interface ClusterProbe {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One probe now; resolves when it answered, failed or timed out. */
  probe(): Promise<void>;
}

class ProbeTimeout extends Error {}

export function createClusterProbe(options: ClusterProbeOptions): ClusterProbe {
  const { kafka, health } = options;
  const timeoutMs = options.timeoutMs ?? 2_500;
  let admin: Admin | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function ask(client: Admin): Promise<void> {
    await client.connect();
    await client.describeCluster(); // a Metadata request: a round trip to a live broker
  }

  async function once(): Promise<void> {
    const startedAt = Date.now();
    const client = (admin ??= kafka.admin({ retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 } }));
    let deadline: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ask(client),
        new Promise<never>((_, reject) => {
          deadline = setTimeout(() => reject(new ProbeTimeout(`no answer within ${timeoutMs}ms`)), timeoutMs);
        }),
      ]);
      health.clusterAnswered(startedAt);
    } catch (error) {
      health.clusterFailed((error as Error).message);
      // A fresh client next time: this one may hold dead connections or a hung request.
      if (admin === client) admin = undefined;
      void client.disconnect().catch(() => {});
    } finally {
      clearTimeout(deadline);
    }
  }

  const probe = () => (running ??= once().finally(() => (running = undefined)));

  return {
    async start() {
      await probe();
      timer = setInterval(() => void probe(), options.intervalMs ?? 1_500);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
      await admin?.disconnect().catch(() => {});
    },
    probe,
  };
}
