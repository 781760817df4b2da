// How each catalogue event changes a product's state.
import type { ProductEvent, ProductState, VariantState } from './state.ts';

function withVariant(state: ProductState, variantId: string, change: (v: VariantState) => VariantState): ReadonlyMap<string, VariantState> {
  const current = state.variants.get(variantId);
  if (!current) return state.variants;
  const variants = new Map(state.variants);
  variants.set(variantId, change(current));
  return variants;
}

export function evolve(state: ProductState, event: ProductEvent): ProductState {
  switch (event.type) {
    case 'ProductCreated': {
      const e = event.data;
      return { ...state, exists: true, productId: e.productId, name: e.name, description: e.description, category: e.category, currency: e.currency, version: e.version };
    }
    case 'ProductVariantCreated': {
      const e = event.data;
      const variants = new Map(state.variants);
      variants.set(e.variantId, { variantId: e.variantId, sku: e.sku, priceMinor: e.priceMinor, status: 'PENDING_INVENTORY' });
      return { ...state, variants, version: e.version };
    }
    case 'ProductUpdated': {
      const e = event.data;
      return { ...state, name: e.name, description: e.description, category: e.category, version: e.version };
    }
    case 'ProductPriceChanged': {
      const e = event.data;
      return { ...state, variants: withVariant(state, e.variantId, (v) => ({ ...v, priceMinor: e.newPriceMinor })), version: e.version };
    }
    case 'ProductDiscontinued':
      return { ...state, discontinued: true, version: event.data.version };
    case 'ProductVariantUpdated': {
      const e = event.data;
      return { ...state, variants: withVariant(state, e.variantId, (v) => ({ ...v, status: e.status })), version: e.version };
    }
    case 'ProductVariantDeleted': {
      const e = event.data;
      return { ...state, variants: withVariant(state, e.variantId, (v) => ({ ...v, status: 'DELETED' })), version: e.version };
    }
  }
}
