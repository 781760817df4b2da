// The product service's HTTP API (CONTRACT.md). Writes append a command keyed
// by product and answer from the read model once their outcome is applied.
import crypto from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { ProductCommands } from '../../../schemas/generated/product.commands.ts';
import type { CommandRequests } from '../../platform/http/command-request.ts';
import { answerCommand } from '../../platform/http/command-answer.ts';
import { badRequest, notFound } from '../../platform/http/errors.ts';
import { route, type Route, type RouteResponse } from '../../platform/http/route.ts';
import { CURRENCIES, fromMinor, toMinor } from '../../platform/money.ts';
import type { ProjectionRunner } from '../../platform/projections/runner.ts';
import type { TopicMessage } from '../../platform/topics.ts';
import type { Topics } from '../../topics.ts';
import type { InventoryClient } from '../inventory-client.ts';
import { CATALOGUE } from '../projections/catalogue.ts';
import { PRICES } from '../projections/prices.ts';
import { SEARCH } from '../projections/search.ts';
import { STOCK_VIEW } from '../projections/stock-view.ts';
import { catalogueQueries, productView, productViews, variantView } from './queries.ts';
import { PRODUCT_REJECTIONS } from './rejections.ts';

const Id = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' });
const Price = Type.Number({ minimum: 0, maximum: 1e10 });
const Text = (max: number) => Type.String({ maxLength: max });
const Attributes = Type.Record(Type.String({ maxLength: 50 }), Type.String({ maxLength: 200 }), { maxProperties: 20 });

const NewVariant = Type.Object(
  {
    sku: Type.String({ minLength: 1, maxLength: 64 }),
    price: Price,
    attributes: Type.Optional(Attributes),
    initialStock: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    lowStockThreshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
  },
  { additionalProperties: false },
);

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Text(5000)),
    category: Type.Optional(Text(100)),
    currency: Type.Unsafe<string>({ type: 'string', enum: [...CURRENCIES], description: 'ISO 4217 code' }),
    variants: Type.Array(NewVariant, { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);

const PatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Text(5000)),
    category: Type.Optional(Text(100)),
  },
  { additionalProperties: false, minProperties: 1 },
);

export interface ProductRouteDeps {
  topics: Topics;
  read: ProjectionRunner;
  commands: CommandRequests;
  inventory: InventoryClient;
}

export function productRoutes({ topics, read, commands, inventory }: ProductRouteDeps): Route[] {
  const catalogue = () => read.db(CATALOGUE);
  const product = (id: string) => productView(catalogue(), read.db(STOCK_VIEW), id);
  const requireProduct = (id: string) => {
    const p = product(id);
    if (!p) throw notFound(`product ${id}`);
    return p;
  };

  /** Sends a catalogue command and answers with the product as it then stands (201 for one it created). */
  async function change(productId: string, message: TopicMessage<ProductCommands>, correlationId: string, created = false): Promise<RouteResponse> {
    const location = `/api/v1/products/${productId}`;
    return answerCommand(await commands.send(topics.productCommands, message, correlationId, [CATALOGUE]), {
      rejections: PRODUCT_REJECTIONS,
      location,
      pending: { id: productId },
      decided: (outcome) => (created && outcome.status === 'accepted' ? { status: 201, headers: { location }, body: requireProduct(productId) } : { status: 200, body: requireProduct(productId) }),
    });
  }

  return [
    route({
      method: 'post',
      path: '/api/v1/products',
      scope: 'catalog:write',
      summary: 'Create a product with its variants',
      tags: ['catalogue'],
      body: CreateBody,
      responses: { 201: 'the product, each variant pending inventory', 202: 'accepted, outcome pending', 400: 'invalid product', 409: 'a SKU is already taken' },
      handle: async ({ body, correlationId }) => {
        const productId = crypto.randomUUID();
        const variants = body.variants.map((v, i) => {
          const priceMinor = toMinor(v.price, body.currency);
          if (priceMinor === undefined) throw badRequest(`body.variants.${i}.price has more decimals than ${body.currency} allows`);
          return { variantId: crypto.randomUUID(), sku: v.sku, priceMinor, attributes: v.attributes ?? {}, initialStock: v.initialStock ?? null, lowStockThreshold: v.lowStockThreshold ?? null };
        });
        return change(
          productId,
          {
            type: 'CreateProduct',
            data: { productId, name: body.name, description: body.description ?? null, category: body.category ?? null, currency: body.currency, variants },
          },
          correlationId,
          true,
        );
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/products',
      scope: 'catalog:read',
      summary: 'Search the catalogue by words (name, description, SKU, category) and category',
      tags: ['catalogue'],
      query: Type.Object({
        q: Type.Optional(Type.String({ maxLength: 200 })),
        category: Type.Optional(Type.String({ maxLength: 100 })),
        limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
      }),
      responses: { 200: 'matching products, best first' },
      handle: ({ query }) => {
        const ids = catalogueQueries.search(read.db(SEARCH), query.q, query.category, Math.min(Number(query.limit ?? 20), 100));
        return { status: 200, body: { query: query.q ?? null, category: query.category ?? null, results: productViews(catalogue(), read.db(STOCK_VIEW), ids) } };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/products/batch',
      scope: 'catalog:read',
      summary: 'Several products at once',
      tags: ['catalogue'],
      body: Type.Object({ ids: Type.Array(Id, { minItems: 1, maxItems: 100 }) }, { additionalProperties: false }),
      responses: { 200: 'the products found, in the order asked, and the ids not found' },
      handle: ({ body }) => {
        const products = productViews(catalogue(), read.db(STOCK_VIEW), body.ids);
        const found = new Set(products.map((p) => p.id));
        return { status: 200, body: { products, missing: body.ids.filter((id) => !found.has(id)) } };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/products/variants/:variantId',
      scope: 'catalog:read',
      summary: 'One variant with its product',
      tags: ['catalogue'],
      params: Type.Object({ variantId: Id }),
      responses: { 200: 'the variant', 404: 'unknown variant' },
      handle: ({ params }) => {
        const v = catalogueQueries.variant(catalogue(), params.variantId);
        if (!v) throw notFound(`variant ${params.variantId}`);
        const [stock] = catalogueQueries.stockOf(read.db(STOCK_VIEW), [v.variant_id]);
        return { status: 200, body: { productId: v.product_id, ...variantView(v, stock) } };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/products/variants/:variantId/price',
      scope: 'catalog:read',
      summary: "A variant's current price",
      tags: ['catalogue'],
      params: Type.Object({ variantId: Id }),
      responses: { 200: 'the price', 404: 'unknown variant' },
      handle: ({ params }) => {
        const p = catalogueQueries.price(read.db(PRICES), params.variantId);
        if (!p) throw notFound(`variant ${params.variantId}`);
        return {
          status: 200,
          body: { variantId: p.variant_id, productId: p.product_id, sku: p.sku, price: fromMinor(p.price_minor, p.currency), currency: p.currency, updatedAt: new Date(p.updated_at).toISOString() },
        };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/products/:id',
      scope: 'catalog:read',
      summary: 'A product with its variants and an indicative view of their stock',
      tags: ['catalogue'],
      params: Type.Object({ id: Id }),
      responses: { 200: 'the product', 404: 'unknown product' },
      handle: ({ params }) => ({ status: 200, body: requireProduct(params.id) }),
    }),
    route({
      method: 'patch',
      path: '/api/v1/products/:id',
      scope: 'catalog:write',
      summary: 'Change name, description or category',
      tags: ['catalogue'],
      params: Type.Object({ id: Id }),
      body: PatchBody,
      responses: { 200: 'the product', 202: 'accepted, outcome pending', 400: 'invalid change', 404: 'unknown product' },
      handle: ({ params, body, correlationId }) => {
        requireProduct(params.id);
        return change(
          params.id,
          { type: 'UpdateProductDetails', data: { productId: params.id, name: body.name ?? null, description: body.description ?? null, category: body.category ?? null } },
          correlationId,
        );
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/products/:id/variants/:variantId/price',
      scope: 'catalog:write',
      summary: "Set a variant's price",
      tags: ['catalogue'],
      params: Type.Object({ id: Id, variantId: Id }),
      body: Type.Object({ price: Price }, { additionalProperties: false }),
      responses: { 200: 'the product', 202: 'accepted, outcome pending', 400: 'invalid price', 404: 'unknown product or variant', 409: 'discontinued or deleted' },
      handle: ({ params, body, correlationId }) => {
        const p = requireProduct(params.id);
        const priceMinor = toMinor(body.price, p.currency);
        if (priceMinor === undefined) throw badRequest(`body.price has more decimals than ${p.currency} allows`);
        return change(params.id, { type: 'ChangeVariantPrice', data: { productId: params.id, variantId: params.variantId, priceMinor } }, correlationId);
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/products/:id/discontinue',
      scope: 'catalog:write',
      summary: 'Discontinue a product and its variants',
      tags: ['catalogue'],
      params: Type.Object({ id: Id }),
      body: Type.Optional(Type.Object({ reason: Type.Optional(Text(500)) }, { additionalProperties: false })),
      responses: { 200: 'the product', 202: 'accepted, outcome pending', 404: 'unknown product' },
      handle: ({ params, body, correlationId }) => {
        requireProduct(params.id);
        return change(params.id, { type: 'DiscontinueProduct', data: { productId: params.id, reason: body?.reason ?? null } }, correlationId);
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/products/:id/variants/:variantId',
      scope: 'catalog:write',
      summary: 'Delete a variant; its SKU is free again',
      tags: ['catalogue'],
      params: Type.Object({ id: Id, variantId: Id }),
      responses: { 200: 'the product', 202: 'accepted, outcome pending', 404: 'unknown product or variant' },
      handle: ({ params, correlationId }) => {
        requireProduct(params.id);
        return change(params.id, { type: 'DeleteVariant', data: { productId: params.id, variantId: params.variantId } }, correlationId);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/products/:id/stock',
      scope: 'inventory:read',
      summary: 'Real-time stock from inventory, or the local view marked stale when inventory cannot answer',
      tags: ['admin'],
      params: Type.Object({ id: Id }),
      responses: { 200: 'stock per variant, with its source and staleness', 404: 'unknown product' },
      handle: async ({ params }) => {
        const p = requireProduct(params.id);
        const ids = p.variants.filter((v) => v.status !== 'DELETED').map((v) => v.id);
        try {
          const live = new Map((await inventory.stock(ids)).map((s) => [s.productVariantId, s]));
          return {
            status: 200,
            body: {
              productId: p.id,
              source: 'inventory',
              stale: false,
              variants: ids.map((id) => ({ variantId: id, ...(live.get(id) ?? { availableQuantity: null, status: null, updatedAt: null }) })),
            },
          };
        } catch (error) {
          const local = new Map(catalogueQueries.stockOf(read.db(STOCK_VIEW), ids).map((s) => [s.variant_id, s]));
          return {
            status: 200,
            body: {
              productId: p.id,
              source: 'local-view',
              stale: true,
              reason: (error as Error).message,
              circuit: inventory.circuit(),
              variants: ids.map((id) => {
                const s = local.get(id);
                return { variantId: id, availableQuantity: s?.available ?? null, status: s?.status ?? null, updatedAt: s ? new Date(s.updated_at).toISOString() : null };
              }),
            },
          };
        }
      },
    }),
  ];
}
