import { expect } from 'chai';
import { productDecider } from '../../services/product/decider/decider.ts';
import { claimedSkus, type ProductCommand, type ProductEvent } from '../../services/product/decider/state.ts';
import { fold } from '../../services/platform/decider.ts';
import type { VariantStatus } from '../../schemas/generated/product.events.ts';
import { NOW, runTable } from '../support/decider-table.ts';

const P = 'p-1';
const at = (version: number) => ({ productId: P, version, occurredAt: NOW });
const newVariant = (variantId: string, sku: string, priceMinor = 1999, initialStock: number | null = 10) => ({
  variantId,
  sku,
  priceMinor,
  attributes: { size: 'M' },
  initialStock,
  lowStockThreshold: 3,
});

const e = {
  created: (version = 1, name = 'Mug', category: string | null = 'kitchen'): ProductEvent => ({ type: 'ProductCreated', data: { ...at(version), name, description: null, category, currency: 'EUR' } }),
  variantCreated: (version: number, variantId: string, sku: string, priceMinor = 1999, initialStock: number | null = 10): ProductEvent => ({
    type: 'ProductVariantCreated',
    data: { ...at(version), variantId, sku, priceMinor, currency: 'EUR', attributes: { size: 'M' }, initialStock, lowStockThreshold: 3 },
  }),
  variantUpdated: (version: number, variantId: string, sku: string, status: VariantStatus, reason: string | null = null): ProductEvent => ({
    type: 'ProductVariantUpdated',
    data: { ...at(version), variantId, sku, status, reason },
  }),
  updated: (version: number, name: string, description: string | null, category: string | null): ProductEvent => ({ type: 'ProductUpdated', data: { ...at(version), name, description, category } }),
  priceChanged: (version: number, variantId: string, oldPriceMinor: number, newPriceMinor: number): ProductEvent => ({
    type: 'ProductPriceChanged',
    data: { ...at(version), variantId, currency: 'EUR', oldPriceMinor, newPriceMinor },
  }),
  discontinued: (version: number, reason: string | null = 'end of line'): ProductEvent => ({ type: 'ProductDiscontinued', data: { ...at(version), reason } }),
  variantDeleted: (version: number, variantId: string, sku: string): ProductEvent => ({ type: 'ProductVariantDeleted', data: { ...at(version), variantId, sku } }),
};

const c = {
  create: (variants = [newVariant('v1', 'MUG-RED'), newVariant('v2', 'MUG-BLUE', 2499, null)], extra: Partial<{ name: string; currency: string }> = {}): ProductCommand => ({
    type: 'CreateProduct',
    data: { productId: P, name: 'Mug', description: null, category: 'kitchen', currency: 'EUR', variants, ...extra },
  }),
  update: (name: string | null, description: string | null, category: string | null): ProductCommand => ({ type: 'UpdateProductDetails', data: { productId: P, name, description, category } }),
  price: (variantId: string, priceMinor: number): ProductCommand => ({ type: 'ChangeVariantPrice', data: { productId: P, variantId, priceMinor } }),
  discontinue: (): ProductCommand => ({ type: 'DiscontinueProduct', data: { productId: P, reason: 'end of line' } }),
  delete: (variantId: string): ProductCommand => ({ type: 'DeleteVariant', data: { productId: P, variantId } }),
  ready: (variantId: string): ProductCommand => ({ type: 'RecordInventoryReady', data: { productId: P, variantId } }),
  failed: (variantId: string): ProductCommand => ({ type: 'RecordInventorySetupFailed', data: { productId: P, variantId, reason: 'warehouse said no' } }),
};

const mug = [e.created(), e.variantCreated(2, 'v1', 'MUG-RED'), e.variantCreated(3, 'v2', 'MUG-BLUE', 2499, null)];

describe('product decider', () => {
  describe('creating products', () => {
    runTable(productDecider, [
      { name: 'a product and its variants, each variant pending inventory', given: [], when: c.create(), then: mug },
      { name: 'creating it again with the same content: already applied', given: mug, when: c.create(), unchanged: 'ALREADY_APPLIED' },
      { name: 'another product under the same id is refused', given: mug, when: c.create([newVariant('v9', 'OTHER')]), rejected: 'PRODUCT_EXISTS' },
      {
        name: 'a SKU another product holds is refused, naming both',
        given: [],
        owners: { 'sku:MUG-RED': 'p-9' },
        when: c.create(),
        rejected: ['SKU_TAKEN', "SKU 'MUG-RED' already belongs to product p-9"],
      },
      { name: 'SKUs compare case-insensitively', given: [], owners: { 'sku:MUG-BLUE': 'p-9' }, when: c.create([newVariant('v1', 'mug-blue')]), rejected: 'SKU_TAKEN' },
      {
        name: 'a SKU twice in one request is refused',
        given: [],
        when: c.create([newVariant('v1', 'A'), newVariant('v2', 'a')]),
        rejected: ['INVALID_PRODUCT', "variants[1].sku 'a' repeats variants[0].sku"],
      },
      { name: 'no variants is refused', given: [], when: c.create([]), rejected: ['INVALID_PRODUCT', 'a product has 1 to 100 variants, got 0'] },
      { name: 'an unknown currency is refused', given: [], when: c.create(undefined, { currency: 'XYZ' }), rejected: ['INVALID_PRODUCT', "currency 'XYZ' is not an ISO 4217 code"] },
      { name: 'a blank name is refused', given: [], when: c.create(undefined, { name: '  ' }), rejected: ['INVALID_PRODUCT', 'name must have 1 to 200 characters'] },
      { name: 'a malformed SKU is refused', given: [], when: c.create([newVariant('v1', 'has space')]), rejected: ['INVALID_PRODUCT', "variants[0].sku 'has space'"] },
      { name: 'a negative price is refused', given: [], when: c.create([newVariant('v1', 'A', -1)]), rejected: ['INVALID_PRODUCT', 'variants[0].price'] },
      { name: 'negative initial stock is refused', given: [], when: c.create([newVariant('v1', 'A', 100, -5)]), rejected: ['INVALID_PRODUCT', 'variants[0].initialStock'] },
    ]);
  });

  describe('changing products', () => {
    runTable(productDecider, [
      { name: 'details: the full new values', given: mug, when: c.update('Big mug', 'Holds a lot', null), then: [e.updated(4, 'Big mug', 'Holds a lot', 'kitchen')] },
      { name: 'details that change nothing: no event', given: mug, when: c.update('Mug', null, 'kitchen'), unchanged: 'NO_CHANGE' },
      { name: 'an empty description clears it', given: [...mug, e.updated(4, 'Mug', 'old', 'kitchen')], when: c.update(null, '', null), then: [e.updated(5, 'Mug', null, 'kitchen')] },
      { name: 'a price change carries old and new price', given: mug, when: c.price('v1', 2199), then: [e.priceChanged(4, 'v1', 1999, 2199)] },
      { name: 'the same price: no event', given: mug, when: c.price('v1', 1999), unchanged: 'NO_CHANGE' },
      { name: 'the price of an unknown variant is refused', given: mug, when: c.price('nope', 1), rejected: 'UNKNOWN_VARIANT' },
      { name: 'a command for an unknown product is refused', given: [], when: c.price('v1', 1), rejected: 'UNKNOWN_PRODUCT' },
      {
        name: 'discontinuing: its live variants follow',
        given: [...mug, e.variantDeleted(4, 'v2', 'MUG-BLUE')],
        when: c.discontinue(),
        then: [e.discontinued(5), e.variantUpdated(6, 'v1', 'MUG-RED', 'DISCONTINUED', 'end of line')],
      },
      { name: 'discontinuing twice: already applied', given: [...mug, e.discontinued(4)], when: c.discontinue(), unchanged: 'ALREADY_APPLIED' },
      { name: 'no price changes once discontinued', given: [...mug, e.discontinued(4)], when: c.price('v1', 1), rejected: 'PRODUCT_DISCONTINUED' },
      { name: 'deleting a variant frees its SKU', given: mug, when: c.delete('v2'), then: [e.variantDeleted(4, 'v2', 'MUG-BLUE')] },
      { name: 'deleting it twice: already applied', given: [...mug, e.variantDeleted(4, 'v2', 'MUG-BLUE')], when: c.delete('v2'), unchanged: 'ALREADY_APPLIED' },
    ]);
  });

  describe('variant lifecycle from inventory', () => {
    runTable(productDecider, [
      { name: 'inventory ready: ACTIVE', given: mug, when: c.ready('v1'), then: [e.variantUpdated(4, 'v1', 'MUG-RED', 'ACTIVE')] },
      { name: 'ready again: nothing', given: [...mug, e.variantUpdated(4, 'v1', 'MUG-RED', 'ACTIVE')], when: c.ready('v1'), unchanged: 'NO_CHANGE' },
      { name: 'inventory could not set it up: INVENTORY_SETUP_FAILED', given: mug, when: c.failed('v2'), then: [e.variantUpdated(4, 'v2', 'MUG-BLUE', 'INVENTORY_SETUP_FAILED', 'warehouse said no')] },
      {
        name: 'discontinued before inventory answered: stays discontinued',
        given: [...mug, e.discontinued(4), e.variantUpdated(5, 'v1', 'MUG-RED', 'DISCONTINUED')],
        when: c.ready('v1'),
        unchanged: ['NO_CHANGE', 'is DISCONTINUED'],
      },
    ]);
  });

  it('claims the SKUs of its live variants, not of deleted ones', () => {
    const state = fold(productDecider, productDecider.initialState, [...mug, e.variantDeleted(4, 'v2', 'MUG-BLUE')]);
    expect(claimedSkus(state)).to.deep.equal(['sku:MUG-RED']);
  });
});
