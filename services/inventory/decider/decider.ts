// The inventory decider: one per product variant, keyed by productVariantId.
import type { Decider } from '../../platform/decider.ts';
import { decide } from './decide.ts';
import { evolve } from './evolve.ts';
import { initialStock, type InventoryCommand, type InventoryEvent, type VariantStock } from './state.ts';

export const inventoryDecider: Decider<VariantStock, InventoryCommand, InventoryEvent> = {
  initialState: initialStock,
  decide,
  evolve,
};
