// The order service's own settings (the platform's are in platform/config.ts).
import type { EnvReader } from '../platform/env.ts';
import { readResilience, type ResilienceSettings } from '../platform/resilience.ts';
import type { OrderSettings } from './decider/state.ts';
import type { SagaLimits } from './saga-admission.ts';

export interface OrderServiceSettings {
  port: number;
  /** The checkout saga's bound and the payment window. */
  saga: OrderSettings;
  /** PRODUCT_DETAILS_*: the policy around the product-details request-reply at placement. */
  productDetails: ResilienceSettings;
  /** Open and late sagas beyond which placements get 503 at once (saga-admission.ts). */
  sagaLimits: SagaLimits;
}

export function orderSettings(reader: EnvReader): OrderServiceSettings {
  return {
    port: reader.port('ORDER_PORT', 3003),
    saga: {
      sagaTimeoutMs: reader.positive('ORDER_SAGA_TIMEOUT_MS', 30_000, 3_600_000),
      paymentWindowMs: reader.positive('ORDER_PAYMENT_WINDOW_MS', 15 * 60_000, 7 * 86_400_000),
    },
    productDetails: readResilience(reader, 'PRODUCT_DETAILS', { timeoutMs: 1500, attempts: 2, breakAfter: 5, halfOpenAfterMs: 10_000 }),
    sagaLimits: {
      maxOpen: reader.positive('ORDER_MAX_OPEN_SAGAS', 2000, 1_000_000),
      maxLate: reader.positive('ORDER_MAX_LATE_SAGAS', 100, 1_000_000),
      lateAfterMs: reader.positive('ORDER_SAGA_LATE_MS', 1500, 600_000),
    },
  };
}
