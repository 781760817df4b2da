// What /health/live and /health/ready report beyond the read models: whether
// the broker answered the last check, and whether something broke that only a
// restart mends (a consumer that could not be brought back, see
// kafka/supervised-consumer.ts).
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

export interface Health {
  setBrokerReachable(reachable: boolean, reason?: string): void;
  /** From now on the process is not live: its orchestrator should restart it. */
  fatal(reason: string): void;
  liveness(): { live: boolean; reason?: string };
  /** Why the service cannot serve right now (empty when it can). */
  notReadyReasons(): string[];
}

export function createHealth(logger: Logger, metrics: Metrics): Health {
  let broker: { reachable: boolean; reason?: string } = { reachable: true };
  let dead: string | undefined;
  metrics.brokerReachable.set(1);
  return {
    setBrokerReachable(reachable, reason) {
      if (reachable !== broker.reachable) {
        if (reachable) logger.info('broker reachable again');
        else logger.warn({ reason }, 'broker unreachable');
      }
      broker = reason === undefined ? { reachable } : { reachable, reason };
      metrics.brokerReachable.set(reachable ? 1 : 0);
    },
    fatal(reason) {
      if (!dead) logger.error({ reason }, 'not live any more: this process must be restarted');
      dead ??= reason;
    },
    liveness: () => (dead ? { live: false, reason: dead } : { live: true }),
    notReadyReasons: () => (broker.reachable ? [] : [`the Kafka cluster cannot be reached${broker.reason ? `: ${broker.reason}` : ''}`]),
  };
}
