// The one synchronous call between services: real-time stock for admin
// operations, straight from inventory's HTTP API, under a resilience policy
// (platform/resilience.ts: timeout, retries with backoff, circuit breaker), so
// a struggling inventory is not hammered and callers fall back to the product
// service's own eventually consistent view.
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import { createResilience, type CircuitName, type ResilienceSettings } from '../platform/resilience.ts';

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
  policy: ResilienceSettings;
  metrics?: Metrics;
}

export interface InventoryClient {
  stock(variantIds: string[]): Promise<InventoryStock[]>;
  circuit(): CircuitName;
}

export function createInventoryClient(options: InventoryClientOptions): InventoryClient {
  const resilience = createResilience('inventory-http', options.policy, options.logger, options.metrics);
  return {
    stock: (variantIds) =>
      resilience.execute(async (signal) => {
        const url = `${options.baseUrl}/api/v1/inventory?productVariantIds=${variantIds.map(encodeURIComponent).join(',')}`;
        const res = await fetch(url, { signal, headers: options.token ? { authorization: `Bearer ${options.token}` } : {} });
        if (!res.ok) throw new Error(`inventory answered ${res.status}`);
        return (await res.json()) as InventoryStock[];
      }),
    circuit: () => resilience.circuit(),
  };
}
