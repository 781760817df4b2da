// The one synchronous call between services: real-time stock for admin
// operations, straight from inventory's HTTP API. It is bounded (timeout),
// retried with exponential backoff and jitter, and guarded by a circuit
// breaker (cockatiel), so a struggling inventory is not hammered and callers
// fall back to the product service's own eventually consistent view.
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  handleWhen,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import type { Logger } from '../platform/logger.ts';

export interface InventoryStock {
  productVariantId: string;
  availableQuantity: number;
  status: string;
  updatedAt: string;
}

export interface InventoryClientOptions {
  baseUrl: string;
  logger: Logger;
  /** Bearer token with the inventory:read scope. */
  token?: string | undefined;
  timeoutMs?: number;
  attempts?: number;
  /** Consecutive failures that open the circuit, and how long it stays open. */
  breakAfter?: number;
  halfOpenAfterMs?: number;
}

export interface InventoryClient {
  stock(variantIds: string[]): Promise<InventoryStock[]>;
  circuit(): 'closed' | 'open' | 'half-open' | 'isolated';
}

export function createInventoryClient(options: InventoryClientOptions): InventoryClient {
  const { logger } = options;
  const breaker = circuitBreaker(handleAll, {
    halfOpenAfter: options.halfOpenAfterMs ?? 10_000,
    breaker: new ConsecutiveBreaker(options.breakAfter ?? 5),
  });
  // An open circuit answers at once; retrying it would only delay the fallback.
  const retries = retry(handleWhen((e) => !(e instanceof BrokenCircuitError)), {
    maxAttempts: (options.attempts ?? 3) - 1,
    backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
  });
  const perAttempt = timeout(options.timeoutMs ?? 800, TimeoutStrategy.Aggressive);
  const policy = wrap(retries, breaker, perAttempt);
  breaker.onStateChange((state) => logger.warn({ circuit: CircuitState[state] }, 'inventory circuit changed'));

  return {
    async stock(variantIds) {
      return policy.execute(async ({ signal }) => {
        const url = `${options.baseUrl}/api/v1/inventory?productVariantIds=${variantIds.map(encodeURIComponent).join(',')}`;
        const res = await fetch(url, { signal, headers: options.token ? { authorization: `Bearer ${options.token}` } : {} });
        if (!res.ok) throw new Error(`inventory answered ${res.status}`);
        return (await res.json()) as InventoryStock[];
      });
    },
    circuit() {
      switch (breaker.state) {
        case CircuitState.Closed: return 'closed';
        case CircuitState.Open: return 'open';
        case CircuitState.HalfOpen: return 'half-open';
        default: return 'isolated';
      }
    },
  };
}
