// The inventory decider: one per product variant, keyed by productVariantId.
import type { Decider } from '../../platform/decider.ts';
import { decide, type InventoryRejection } from './decide.ts';
import { evolve } from './evolve.ts';
import { initialStock, type InventoryCommand, type InventoryEvent, type VariantStock } from './state.ts';

export const inventoryDecider: Decider<VariantStock, InventoryCommand, InventoryEvent, InventoryRejection> = {
  initialState: initialStock,
  decide,
  evolve,
};
