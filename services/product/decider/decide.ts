// The catalogue rules: products with variants, details, prices,
// discontinuation, deletion, and each variant's lifecycle as inventory reports
// on it.
//
// A SKU is unique across the whole catalogue. Commands are keyed by product, so
// two products could otherwise race for one SKU in different partitions. The
// catalogue topics have one partition (topology/topics.yaml): one owner decides
// every catalogue command in log order, and the processor keeps an index of
// which product holds which SKU (AggregateDefinition.uniqueKeys), which
// `context.owner` exposes here. Of two products racing for a SKU, the one whose
// command comes first in the log gets it; the other is refused.
import type { CreateProduct, UpdateProductDetails } from '../../../schemas/generated/product.commands.ts';
import type { VariantStatus } from '../../../schemas/generated/product.events.ts';
import { accept, reject, unchanged, UNCHANGED, type CommandContext, type Decision as Decided } from '../../platform/decider.ts';
import { isCurrency } from '../../platform/money.ts';
import { skuKey, type ProductCommand, type ProductEvent, type ProductState } from './state.ts';

type Stamped = 'productId' | 'version' | 'occurredAt';
type Draft = ProductEvent extends infer E ? (E extends { type: infer T; data: infer D } ? { type: T; data: Omit<D, Stamped> } : never) : never;

/** Why a catalogue command may not happen: the closed set its callers map to answers. */
export const REJECTION = {
  invalid: 'INVALID_PRODUCT',
  exists: 'PRODUCT_EXISTS',
  unknownProduct: 'UNKNOWN_PRODUCT',
  unknownVariant: 'UNKNOWN_VARIANT',
  skuTaken: 'SKU_TAKEN',
  discontinued: 'PRODUCT_DISCONTINUED',
  variantDeleted: 'VARIANT_DELETED',
} as const;
export type ProductRejection = (typeof REJECTION)[keyof typeof REJECTION];
type Decision = Decided<ProductEvent, ProductRejection>;

export const LIMITS = { variants: 100, name: 200, description: 5000, category: 100, attributes: 20, maxPriceMinor: 1e12, maxStock: 10_000_000 } as const;
const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function stamp(state: ProductState, productId: string, now: number, drafts: Draft[]): ProductEvent[] {
  return drafts.map((d, i) => ({ type: d.type, data: { ...d.data, productId, version: state.version + i + 1, occurredAt: now } }) as ProductEvent);
}

function problemsOfCreate(c: CreateProduct, owner: CommandContext['owner']): { code: ProductRejection; message: string } | undefined {
  const invalid = (message: string) => ({ code: REJECTION.invalid, message });
  if (!c.name.trim() || c.name.length > LIMITS.name) return invalid(`name must have 1 to ${LIMITS.name} characters`);
  if ((c.description?.length ?? 0) > LIMITS.description) return invalid(`description must have at most ${LIMITS.description} characters`);
  if ((c.category?.length ?? 0) > LIMITS.category) return invalid(`category must have at most ${LIMITS.category} characters`);
  if (!isCurrency(c.currency)) return invalid(`currency '${c.currency}' is not an ISO 4217 code`);
  if (c.variants.length < 1 || c.variants.length > LIMITS.variants) return invalid(`a product has 1 to ${LIMITS.variants} variants, got ${c.variants.length}`);
  const seen = new Map<string, number>();
  for (const [i, v] of c.variants.entries()) {
    const at = `variants[${i}]`;
    if (!SKU.test(v.sku)) return invalid(`${at}.sku '${v.sku}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    const key = skuKey(v.sku);
    if (seen.has(key)) return invalid(`${at}.sku '${v.sku}' repeats variants[${seen.get(key)}].sku`);
    seen.set(key, i);
    if (v.priceMinor < 0 || v.priceMinor > LIMITS.maxPriceMinor) return invalid(`${at}.price must be between 0 and ${LIMITS.maxPriceMinor} minor units`);
    if (v.initialStock !== null && (v.initialStock < 0 || v.initialStock > LIMITS.maxStock)) return invalid(`${at}.initialStock must be between 0 and ${LIMITS.maxStock}`);
    if (v.lowStockThreshold !== null && (v.lowStockThreshold < 0 || v.lowStockThreshold > LIMITS.maxStock)) return invalid(`${at}.lowStockThreshold must be between 0 and ${LIMITS.maxStock}`);
    if (Object.keys(v.attributes).length > LIMITS.attributes) return invalid(`${at}.attributes may hold at most ${LIMITS.attributes} entries`);
    const holder = owner?.(key);
    if (holder !== undefined && holder !== c.productId) return { code: REJECTION.skuTaken, message: `SKU '${v.sku}' already belongs to product ${holder}` };
  }
  return undefined;
}

function create(state: ProductState, c: CreateProduct, { now, owner }: CommandContext): Decision {
  if (state.exists) {
    const same = state.name === c.name && state.variants.size === c.variants.length && c.variants.every((v) => state.variants.get(v.variantId)?.sku === v.sku);
    return same ? unchanged(UNCHANGED.alreadyApplied, `product ${c.productId} was already created`) : reject(REJECTION.exists, `product ${c.productId} already exists`);
  }
  const problem = problemsOfCreate(c, owner);
  if (problem) return reject(problem.code, problem.message);
  return accept(
    ...stamp(state, c.productId, now, [
      { type: 'ProductCreated', data: { name: c.name.trim(), description: c.description, category: c.category, currency: c.currency } },
      ...c.variants.map((v): Draft => ({
        type: 'ProductVariantCreated',
        data: { variantId: v.variantId, sku: v.sku, priceMinor: v.priceMinor, currency: c.currency, attributes: v.attributes, initialStock: v.initialStock, lowStockThreshold: v.lowStockThreshold },
      })),
    ]),
  );
}

function update(state: ProductState, c: UpdateProductDetails, now: number): Decision {
  const next = {
    name: c.name === null ? state.name : c.name.trim(),
    description: c.description === null ? state.description : c.description || null,
    category: c.category === null ? state.category : c.category || null,
  };
  if (!next.name || next.name.length > LIMITS.name) return reject(REJECTION.invalid, `name must have 1 to ${LIMITS.name} characters`);
  if ((next.description?.length ?? 0) > LIMITS.description) return reject(REJECTION.invalid, `description must have at most ${LIMITS.description} characters`);
  if ((next.category?.length ?? 0) > LIMITS.category) return reject(REJECTION.invalid, `category must have at most ${LIMITS.category} characters`);
  if (next.name === state.name && next.description === state.description && next.category === state.category)
    return unchanged(UNCHANGED.noChange, `product ${state.productId} already has these details`);
  return accept(...stamp(state, c.productId, now, [{ type: 'ProductUpdated', data: next }]));
}

/** A variant's move to a status, unless it already has it or it is past it. */
function moveVariant(state: ProductState, variantId: string, to: VariantStatus, from: VariantStatus[], reason: string | null, now: number): Decision {
  const v = state.variants.get(variantId);
  if (!v) return reject(REJECTION.unknownVariant, `product ${state.productId} has no variant ${variantId}`);
  if (!from.includes(v.status)) return unchanged(UNCHANGED.noChange, `variant ${variantId} is ${v.status}, so it does not become ${to}`);
  return accept(...stamp(state, state.productId, now, [{ type: 'ProductVariantUpdated', data: { variantId, sku: v.sku, status: to, reason } }]));
}

export function decide(state: ProductState, command: ProductCommand, context: CommandContext): Decision {
  const { now } = context;
  if (command.type === 'CreateProduct') return create(state, command.data, context);
  if (!state.exists) return reject(REJECTION.unknownProduct, `no product ${command.data.productId}`);
  switch (command.type) {
    case 'UpdateProductDetails':
      return update(state, command.data, now);
    case 'ChangeVariantPrice': {
      const { variantId, priceMinor } = command.data;
      const v = state.variants.get(variantId);
      if (!v) return reject(REJECTION.unknownVariant, `product ${state.productId} has no variant ${variantId}`);
      if (v.status === 'DELETED') return reject(REJECTION.variantDeleted, `variant ${variantId} is deleted`);
      if (state.discontinued) return reject(REJECTION.discontinued, `product ${state.productId} is discontinued`);
      if (priceMinor < 0 || priceMinor > LIMITS.maxPriceMinor) return reject(REJECTION.invalid, `price must be between 0 and ${LIMITS.maxPriceMinor} minor units`);
      if (priceMinor === v.priceMinor) return unchanged(UNCHANGED.noChange, `variant ${variantId} already has this price`);
      return accept(...stamp(state, state.productId, now, [{ type: 'ProductPriceChanged', data: { variantId, currency: state.currency, oldPriceMinor: v.priceMinor, newPriceMinor: priceMinor } }]));
    }
    case 'DiscontinueProduct': {
      if (state.discontinued) return unchanged(UNCHANGED.alreadyApplied, `product ${state.productId} is already discontinued`);
      const live = [...state.variants.values()].filter((v) => v.status !== 'DELETED' && v.status !== 'DISCONTINUED');
      return accept(
        ...stamp(state, state.productId, now, [
          { type: 'ProductDiscontinued', data: { reason: command.data.reason } },
          ...live.map((v): Draft => ({ type: 'ProductVariantUpdated', data: { variantId: v.variantId, sku: v.sku, status: 'DISCONTINUED', reason: command.data.reason } })),
        ]),
      );
    }
    case 'DeleteVariant': {
      const v = state.variants.get(command.data.variantId);
      if (!v) return reject(REJECTION.unknownVariant, `product ${state.productId} has no variant ${command.data.variantId}`);
      if (v.status === 'DELETED') return unchanged(UNCHANGED.alreadyApplied, `variant ${v.variantId} is already deleted`);
      return accept(...stamp(state, state.productId, now, [{ type: 'ProductVariantDeleted', data: { variantId: v.variantId, sku: v.sku } }]));
    }
    case 'RecordInventoryReady':
      return moveVariant(state, command.data.variantId, 'ACTIVE', ['PENDING_INVENTORY', 'INVENTORY_SETUP_FAILED'], null, now);
    case 'RecordInventorySetupFailed':
      return moveVariant(state, command.data.variantId, 'INVENTORY_SETUP_FAILED', ['PENDING_INVENTORY'], command.data.reason, now);
  }
}
