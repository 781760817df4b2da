// The product decider: one per product, keyed by productId.
import type { Decider } from '../../platform/decider.ts';
import { decide, type ProductRejection } from './decide.ts';
import { evolve } from './evolve.ts';
import { initialProduct, type ProductCommand, type ProductEvent, type ProductState } from './state.ts';

export const productDecider: Decider<ProductState, ProductCommand, ProductEvent, ProductRejection> = {
  initialState: initialProduct,
  decide,
  evolve,
};
