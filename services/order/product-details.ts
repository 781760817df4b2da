// The product service's latest data for an order's variants, asked for over
// the log (request-reply on product.details.requests/replies, seed 004 §4.2-4.4)
// under the order service's resilience policy: each attempt bounded, retried
// with backoff, and a circuit breaker that answers at once while the product
// service keeps failing. Lookups made while others are under way are batched
// into one request (a flash sale's POSTs share requests). Never throws: no
// answer in time is an answer too, and placement falls back to the order
// service's own catalogue copy.
import type { ProductDetailsReplies } from '../../schemas/generated/product.details.replies.ts';
import type { ProductDetailsRequests } from '../../schemas/generated/product.details.requests.ts';
import type { Logger } from '../platform/logger.ts';
import { createLookupBatcher } from '../platform/messaging/lookup-batcher.ts';
import type { RequestReplyClient } from '../platform/messaging/request-reply.ts';
import type { Metrics } from '../platform/metrics.ts';
import { createResilience, type CircuitName, type ResilienceSettings } from '../platform/resilience.ts';
import type { LatestDetails, VariantDetails } from './placement.ts';

export interface ProductDetails {
  latest(variantIds: string[], correlationId: string): Promise<LatestDetails>;
  circuit(): CircuitName;
}

/** Room for the request's own deadline to fire first, and clean up its waiter. */
const MARGIN_MS = 250;

export function createProductDetails(client: RequestReplyClient<ProductDetailsRequests, ProductDetailsReplies>, policy: ResilienceSettings, logger: Logger, metrics?: Metrics): ProductDetails {
  const resilience = createResilience('product-details', { ...policy, timeoutMs: policy.timeoutMs + MARGIN_MS }, logger, metrics);
  // A batched request serves many orders, so it carries no one order's correlation id.
  const lookup = createLookupBatcher<VariantDetails>(async (variantIds) => {
    const reply = await resilience.execute(() => client.request({ type: 'ProductDetailsRequested', data: { requestId: '', variantIds } }, { timeoutMs: policy.timeoutMs }));
    return new Map(reply.data.variants.map((v) => [v.variantId, v]));
  });
  return {
    async latest(variantIds, correlationId) {
      try {
        return { answered: true, variants: await lookup([...new Set(variantIds)]) };
      } catch (error) {
        logger.debug({ correlationId, error: (error as Error).message }, 'product details unavailable; pricing from the catalogue copy');
        return { answered: false, reason: (error as Error).message };
      }
    },
    circuit: () => resilience.circuit(),
  };
}
