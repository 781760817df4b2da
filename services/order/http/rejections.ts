// The HTTP status of each reason an order command may be refused. The compiler
// checks the map covers the decider's whole set of codes.
import type { RejectionStatuses } from '../../platform/http/command-answer.ts';
import type { OrderRejection } from '../decider/decide.ts';

export const ORDER_REJECTIONS = {
  INVALID_ORDER: 422,
  INVALID_RETURN: 422,
  IDEMPOTENCY_CONFLICT: 409,
  INVALID_TRANSITION: 409,
  UNKNOWN_ORDER: 404,
  // The saga's own command: inventory answered for a reservation the order never asked for.
  UNKNOWN_RESERVATION: 409,
} as const satisfies RejectionStatuses<OrderRejection>;
