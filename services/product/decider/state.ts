// The state of one product and its variants, as the product decider sees it.
import type { ProductCommands } from '../../../schemas/generated/product.commands.ts';
import type { ProductEvents, VariantStatus } from '../../../schemas/generated/product.events.ts';
import type { OutcomeRecord, TopicMessage } from '../../platform/topics.ts';

export type ProductEvent = TopicMessage<Omit<ProductEvents, OutcomeRecord>>;
export type ProductCommand = TopicMessage<ProductCommands>;

export interface VariantState {
  variantId: string;
  sku: string;
  priceMinor: number;
  status: VariantStatus;
}

export interface ProductState {
  exists: boolean;
  productId: string;
  name: string;
  description: string | null;
  category: string | null;
  currency: string;
  discontinued: boolean;
  version: number;
  variants: ReadonlyMap<string, VariantState>;
}

export const initialProduct: ProductState = {
  exists: false,
  productId: '',
  name: '',
  description: null,
  category: null,
  currency: '',
  discontinued: false,
  version: 0,
  variants: new Map(),
};

/** SKUs compare case-insensitively: "ab-1" and "AB-1" are one SKU. */
export function skuKey(sku: string): string {
  return `sku:${sku.toUpperCase()}`;
}

/** The SKUs a product holds: those of its variants that are not deleted. */
export function claimedSkus(state: ProductState): string[] {
  return [...state.variants.values()].filter((v) => v.status !== 'DELETED').map((v) => skuKey(v.sku));
}
