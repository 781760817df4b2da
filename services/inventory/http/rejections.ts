// The HTTP status of each reason an inventory command may be refused. The
// compiler checks the map covers the decider's whole set of codes.
import type { RejectionStatuses } from '../../platform/http/command-answer.ts';
import type { InventoryRejection } from '../decider/decide.ts';

export const INVENTORY_REJECTIONS = {
  UNKNOWN_VARIANT: 404,
  UNKNOWN_RESERVATION: 404,
  INVALID_QUANTITY: 400,
  INSUFFICIENT_STOCK: 409,
  NOT_RESERVED: 409,
  RESERVATION_CLOSED: 409,
  IDEMPOTENCY_CONFLICT: 409,
  RETIRED: 409,
} as const satisfies RejectionStatuses<InventoryRejection>;
