// The HTTP status of each reason a catalogue command may be refused. The
// compiler checks the map covers the decider's whole set of codes.
import type { RejectionStatuses } from '../../platform/http/command-answer.ts';
import type { ProductRejection } from '../decider/decide.ts';

export const PRODUCT_REJECTIONS = {
  INVALID_PRODUCT: 400,
  UNKNOWN_PRODUCT: 404,
  UNKNOWN_VARIANT: 404,
  PRODUCT_EXISTS: 409,
  SKU_TAKEN: 409,
  PRODUCT_DISCONTINUED: 409,
  VARIANT_DELETED: 409,
} as const satisfies RejectionStatuses<ProductRejection>;
