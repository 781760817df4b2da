// The one synchronous call between services: real-time stock for admin
// operations, straight from inventory's HTTP API, under a resilience policy
// (platform/resilience.ts: timeout, retries with backoff, circuit breaker), so
// a struggling inventory is not hammered and callers fall back to the product
// service's own eventually consistent view. Over https the certificate is always
// verified: against HTTP_TLS_CA_FILE when set, else Node's CAs.
import { Agent, fetch } from 'undici';
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
  /** PEM of the CA that signed inventory's certificate (config.http.peerCaFile), trusted instead of Node's. */
  ca?: string | undefined;
}

export interface InventoryClient {
  stock(variantIds: string[]): Promise<InventoryStock[]>;
  circuit(): CircuitName;
}

export function createInventoryClient(options: InventoryClientOptions): InventoryClient {
  const resilience = createResilience('inventory-http', options.policy, options.logger, options.metrics);
  const dispatcher = options.ca ? new Agent({ connect: { ca: options.ca } }) : undefined;
  return {
    stock: (variantIds) =>
      resilience.execute(async (signal) => {
        const url = `${options.baseUrl}/api/v1/inventory?productVariantIds=${variantIds.map(encodeURIComponent).join(',')}`;
        const res = await fetch(url, { signal, headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, ...(dispatcher ? { dispatcher } : {}) }).catch((error: unknown) => {
          throw unreachable(error);
        });
        if (!res.ok) throw new Error(`inventory answered ${res.status}`);
        return (await res.json()) as InventoryStock[];
      }),
    circuit: () => resilience.circuit(),
  };
}

/**
 * fetch's own "fetch failed" names no reason; its cause does (a refused
 * connection, an untrusted certificate), and becomes the fallback's reason.
 * Aborts (the policy's timeout) pass unchanged, as the policy recognises them.
 */
function unreachable(error: unknown): unknown {
  if (!(error instanceof TypeError) || !(error.cause instanceof Error)) return error;
  const code = (error.cause as NodeJS.ErrnoException).code;
  return new Error(`inventory cannot be reached: ${error.cause.message}${code && !error.cause.message.includes(code) ? ` (${code})` : ''}`, { cause: error.cause });
}
