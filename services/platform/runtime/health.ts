// What /health/live and /health/ready report beyond the read models: whether
// the Kafka cluster answered recently, and whether something broke that only a
// restart mends (a consumer that could not be brought back, see
// kafka/supervised-consumer.ts).
//
// Reachability is judged when readiness is asked for, from the time of the
// last probe that got an answer (runtime/cluster-probe.ts), never from a
// probe's failure alone: a probe can hang (a client retrying a dead broker, an
// event loop busy on a 2-core machine), but the clock does not. So readiness
// turns 503 at most READINESS_BOUND_MS after the cluster last answered,
// whatever holds the probes up.
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

/** Readiness fails at most this long after the Kafka cluster last answered a probe. */
export const READINESS_BOUND_MS = 6_000;

export interface Health {
  /** A probe that started at `startedAt` (epoch ms) got an answer from the cluster. */
  clusterAnswered(startedAt: number): void;
  /** A probe failed or timed out. */
  clusterFailed(reason: string): void;
  /** True when the cluster answered within the bound and the last two probes did not both fail. */
  clusterReachable(): boolean;
  /** From now on the process is not live: its orchestrator should restart it. */
  fatal(reason: string): void;
  liveness(): { live: boolean; reason?: string };
  /** Why the service cannot serve right now (empty when it can). */
  notReadyReasons(): string[];
}

export interface HealthOptions {
  boundMs?: number;
  now?: () => number;
}

export function createHealth(logger: Logger, metrics: Metrics, options: HealthOptions = {}): Health {
  const boundMs = options.boundMs ?? READINESS_BOUND_MS;
  const now = options.now ?? Date.now;
  // Starting needed the cluster (every component connects), so it answered just now.
  let answeredAt = now();
  let failuresInARow = 0;
  let lastFailure: string | undefined;
  let reported = true;
  let dead: string | undefined;

  const unreachableReason = (): string | undefined => {
    const silentMs = now() - answeredAt;
    if (silentMs > boundMs) return `the Kafka cluster has not answered for ${(silentMs / 1000).toFixed(1)}s${lastFailure ? `: ${lastFailure}` : ''}`;
    if (failuresInARow >= 2) return `the Kafka cluster cannot be reached: ${lastFailure}`;
    return undefined;
  };
  const report = () => {
    const reachable = unreachableReason() === undefined;
    metrics.brokerReachable.set(reachable ? 1 : 0);
    if (reachable !== reported) {
      if (reachable) logger.info('Kafka cluster reachable again');
      else logger.warn({ reason: unreachableReason() }, 'Kafka cluster unreachable');
      reported = reachable;
    }
    return reachable;
  };
  metrics.brokerReachable.set(1);
  metrics.beforeScrape(() => void report());

  return {
    clusterAnswered(startedAt) {
      answeredAt = Math.max(answeredAt, startedAt);
      failuresInARow = 0;
      lastFailure = undefined;
      report();
    },
    clusterFailed(reason) {
      failuresInARow++;
      lastFailure = reason;
      report();
    },
    clusterReachable: () => report(),
    fatal(reason) {
      if (!dead) logger.error({ reason }, 'not live any more: this process must be restarted');
      dead ??= reason;
    },
    liveness: () => (dead ? { live: false, reason: dead } : { live: true }),
    notReadyReasons() {
      report();
      const reason = unreachableReason();
      return reason ? [reason] : [];
    },
  };
}
