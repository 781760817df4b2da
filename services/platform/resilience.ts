// The policy a service puts around a call to another service (HTTP or
// request-reply over the log), from one library (cockatiel): a timeout per
// attempt, retries with exponential backoff, and a circuit breaker that answers
// at once while the other side is failing, so callers fall back instead of
// piling up. Its state and each call's latency and result are metrics.
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  handleWhen,
  isTaskCancelledError,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from 'cockatiel';
import type { EnvReader } from './env.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

export interface ResilienceSettings {
  /** One attempt's bound. */
  timeoutMs: number;
  /** Attempts in all (1 = no retry). */
  attempts: number;
  /** Consecutive failed attempts (not calls) that open the circuit, and how long it stays open before a trial call. */
  breakAfter: number;
  halfOpenAfterMs: number;
}

/** Reads `<PREFIX>_TIMEOUT_MS`, `_ATTEMPTS`, `_BREAK_AFTER` and `_HALF_OPEN_MS`. */
export function readResilience(reader: EnvReader, prefix: string, defaults: ResilienceSettings): ResilienceSettings {
  return {
    timeoutMs: reader.positive(`${prefix}_TIMEOUT_MS`, defaults.timeoutMs, 600_000),
    attempts: reader.positive(`${prefix}_ATTEMPTS`, defaults.attempts, 10),
    breakAfter: reader.positive(`${prefix}_BREAK_AFTER`, defaults.breakAfter, 1000),
    halfOpenAfterMs: reader.positive(`${prefix}_HALF_OPEN_MS`, defaults.halfOpenAfterMs, 3_600_000),
  };
}

export type CircuitName = 'closed' | 'open' | 'half-open' | 'isolated';

export interface Resilient {
  /** Runs `work` under the policy; `signal` aborts an attempt that timed out. */
  execute<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  circuit(): CircuitName;
}

const CIRCUIT: Record<CircuitState, CircuitName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};
/** As the circuit_breaker_state gauge reports it. */
const GAUGE: Record<CircuitName, number> = { closed: 0, open: 1, 'half-open': 2, isolated: 3 };

/** A timeout of the policy itself, or of the call inside it (a request-reply's own deadline). */
function timedOut(error: unknown): boolean {
  return isTaskCancelledError(error) || (error as Error | undefined)?.name === 'TimeoutError' || (error as Error | undefined)?.name === 'RequestTimeoutError';
}

export function createResilience(dependency: string, settings: ResilienceSettings, logger: Logger, metrics?: Metrics): Resilient {
  const breaker = circuitBreaker(handleAll, { halfOpenAfter: settings.halfOpenAfterMs, breaker: new ConsecutiveBreaker(settings.breakAfter) });
  // An open circuit answers at once; retrying it would only delay the fallback.
  const retries = retry(
    handleWhen((e) => !(e instanceof BrokenCircuitError)),
    {
      maxAttempts: settings.attempts - 1,
      backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
    },
  );
  const perAttempt = timeout(settings.timeoutMs, TimeoutStrategy.Aggressive);
  const policy: IPolicy = wrap(retries, breaker, perAttempt);
  const gauge = metrics?.circuitState.labels(dependency);
  gauge?.set(0);
  breaker.onStateChange((state) => {
    logger.warn({ dependency, circuit: CIRCUIT[state] }, 'circuit changed');
    gauge?.set(GAUGE[CIRCUIT[state]]);
  });
  return {
    async execute(work) {
      const stop = metrics?.dependencyCalls.startTimer({ dependency });
      try {
        // A signal per call: cockatiel's default is one shared signal, which
        // many concurrent calls fill with listeners (Node warns past ten).
        const result = await policy.execute(({ signal }) => work(signal), new AbortController().signal);
        stop?.({ outcome: 'ok' });
        return result;
      } catch (error) {
        stop?.({ outcome: error instanceof BrokenCircuitError ? 'circuit-open' : timedOut(error) ? 'timeout' : 'failed' });
        throw error;
      }
    },
    circuit: () => CIRCUIT[breaker.state],
  };
}
