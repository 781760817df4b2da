// Bearer tokens on the HTTP endpoints, against services running as processes:
// who may do what (scopes), what an invalid token gets (401), a wrong scope
// (403), too many writes (429), and that no token reaches the logs.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { LOCAL_TOKEN_ISSUER, TOKEN_AUDIENCE } from '../../services/platform/config.ts';
import { testAuth } from '../support/auth.ts';
import { startChild, type ChildService } from '../support/child-service.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call, freePort, type JsonResponse } from '../support/http.ts';

const WRITES_PER_MINUTE = 8;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('HTTP bearer tokens, scopes and rate limits (services as processes)', function () {
  this.timeout(180_000);
  let env: TestEnvironment;
  let inventory: ChildService;
  let product: ChildService;
  const base = { product: '', inventory: '' };
  const tokens: Record<string, string> = {};
  let variantId: string;

  before(async () => {
    env = await provision('http-auth');
    const ports = { product: await freePort(), inventory: await freePort() };
    base.product = `http://127.0.0.1:${ports.product}`;
    base.inventory = `http://127.0.0.1:${ports.inventory}`;
    // Writes wait for their outcome as long as the test does: every answer here is a decided one, never 202.
    const common = {
      TOPIC_PREFIX: env.prefix,
      PRODUCT_PORT: String(ports.product),
      INVENTORY_PORT: String(ports.inventory),
      RATE_LIMIT_WRITES_PER_MINUTE: String(WRITES_PER_MINUTE),
      COMMAND_TIMEOUT_MS: '60000',
    };
    inventory = startChild('services/inventory/main.ts', common, 'auth-inventory');
    product = startChild('services/product/main.ts', common, 'auth-product');
    for (const url of Object.values(base)) await eventually(async () => expect((await call(url, 'GET', '/health/ready', undefined, { authorization: '' })).status).to.equal(200), 90_000);
    for (const identity of ['admin', 'storefront', 'order-service', 'product-service']) tokens[identity] = await testAuth.tokenFor(identity);
    const created = await call(
      base.product,
      'POST',
      '/api/v1/products',
      { name: 'Auth lamp', currency: 'EUR', variants: [{ sku: `AUTH-${env.prefix}`, price: 10, initialStock: 100 }] },
      bearer(tokens.admin!),
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    variantId = created.body.variants[0].id;
    await eventually(async () => expect((await call(base.inventory, 'GET', `/api/v1/inventory/${variantId}`)).status).to.equal(200), 30_000);
  });
  after(async () => {
    await Promise.all([inventory, product].map((c) => c?.kill('SIGTERM')));
    await env.close();
  });

  it('keeps health, metrics and the OpenAPI description open', async () => {
    for (const path of ['/health/live', '/health/ready', '/metrics', '/openapi.json']) {
      expect((await call(base.inventory, 'GET', path, undefined, { authorization: '' })).status, path).to.equal(200);
    }
    const doc = (await call(base.inventory, 'GET', '/openapi.json')).body;
    expect(doc.components.securitySchemes.bearerAuth).to.include({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/api/v1/inventory/{variantId}/reserve'].post.security).to.deep.equal([{ bearerAuth: ['inventory:reserve'] }]);
  });

  it('answers 401 with a JSON body to a missing, malformed, expired or foreign token', async () => {
    const path = `/api/v1/inventory/${variantId}`;
    const missing = await call(base.inventory, 'GET', path, undefined, { authorization: '' });
    expect(missing.status).to.equal(401);
    expect(missing.body).to.include({ error: 'UNAUTHENTICATED' });
    expect(missing.headers.get('www-authenticate')).to.match(/^Bearer /);

    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const sign = (claims: { iss?: string; aud?: string; exp?: number }, key = privateKey) =>
      new SignJWT({ scope: 'inventory:read' })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject('intruder')
        .setIssuer(claims.iss ?? LOCAL_TOKEN_ISSUER)
        .setAudience(claims.aud ?? TOKEN_AUDIENCE)
        .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
        .sign(key);
    const cases: [string, Record<string, string>, RegExp][] = [
      ['not a bearer token', { authorization: 'Basic dXNlcjpwYXNz' }, /not a bearer token/],
      ['malformed', bearer('not.a.jwt'), /malformed/],
      ['signed with another key', bearer(await sign({})), /not signed by a trusted key/],
      ['expired', bearer(await testAuth.mintToken('admin', ['inventory:read'], { ttlSeconds: -120 })), /expired/],
      ['another issuer', bearer(await testAuth.mintToken('admin', ['inventory:read'], { issuer: 'someone-else' })), /'iss' claim/],
    ];
    for (const [what, headers, message] of cases) {
      const res = await call(base.inventory, 'GET', path, undefined, headers);
      expect(res.status, what).to.equal(401);
      expect(res.body.error, what).to.equal('UNAUTHENTICATED');
      expect(res.body.message, what).to.match(message);
    }
  });

  it('lets each identity do its own job only, answering 403 naming the missing scope', async () => {
    const reserve = (identity: string, n: number) =>
      call(base.inventory, 'POST', `/api/v1/inventory/${variantId}/reserve`, { quantity: 1, reservationId: `auth-${identity}-${n}`, ttlSeconds: 60 }, bearer(tokens[identity]!));
    const adjust = (identity: string, changeType: string) =>
      call(base.inventory, 'POST', '/api/v1/inventory/adjust-stock', { productVariantId: variantId, changeType, quantity: 1, reason: 'auth test' }, bearer(tokens[identity]!));

    // The product service only reads inventory.
    expect((await call(base.inventory, 'GET', `/api/v1/inventory/${variantId}`, undefined, bearer(tokens['product-service']!))).status).to.equal(200);
    const refused = await reserve('product-service', 1);
    expect(refused.status).to.equal(403);
    expect(refused.body).to.deep.include({ error: 'FORBIDDEN', requiredScope: 'inventory:reserve' });
    expect(refused.headers.get('www-authenticate')).to.contain('insufficient_scope');

    // The order service reserves, releases and records sales, but does not restock.
    expect((await reserve('order-service', 1)).status).to.equal(200);
    const released = await call(base.inventory, 'POST', `/api/v1/inventory/${variantId}/release`, { reservationId: 'auth-order-service-1' }, bearer(tokens['order-service']!));
    expect(released.status, JSON.stringify(released.body)).to.equal(200);
    expect(released.body).to.include({ reservationId: 'auth-order-service-1', status: 'RELEASED' });
    const sale = await adjust('order-service', 'SALE');
    expect(sale.status, JSON.stringify(sale.body)).to.equal(200);
    expect(sale.body).to.include({ productVariantId: variantId, quantity: 99 });
    const restock = await adjust('order-service', 'RESTOCK');
    expect(restock.status).to.equal(403);
    expect(restock.body.requiredScope).to.equal('inventory:admin');
    expect((await adjust('admin', 'RESTOCK')).status).to.equal(200);

    // A storefront browses the catalogue but cannot change it.
    expect((await call(base.product, 'GET', `/api/v1/products?q=lamp`, undefined, bearer(tokens.storefront!))).status).to.equal(200);
    const create = await call(base.product, 'POST', '/api/v1/products', { name: 'x', currency: 'EUR', variants: [{ sku: 'X-1', price: 1 }] }, bearer(tokens.storefront!));
    expect(create.status).to.equal(403);
    expect(create.body.requiredScope).to.equal('catalog:write');
    // ... nor read stock straight from inventory through the product service.
    expect((await call(base.product, 'GET', `/api/v1/products/${variantId}/stock`, undefined, bearer(tokens.storefront!))).status).to.equal(403);
  });

  it('limits writes per identity with 429 and a JSON body, leaving other identities alone', async () => {
    const token = await testAuth.mintToken('burst-client', ['inventory:reserve']);
    const statuses: number[] = [];
    let limited: JsonResponse | undefined;
    for (let i = 0; i < WRITES_PER_MINUTE + 3; i++) {
      const res = await call(base.inventory, 'POST', `/api/v1/inventory/${variantId}/reserve`, { quantity: 1, reservationId: `burst-${i}`, ttlSeconds: 60 }, bearer(token));
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(
      statuses.slice(0, WRITES_PER_MINUTE - 2).every((s) => s === 200),
      statuses.join(','),
    ).to.equal(true);
    expect(limited, statuses.join(',')).to.not.equal(undefined);
    expect(limited!.body.error).to.equal('RATE_LIMITED');
    expect(Number(limited!.headers.get('retry-after'))).to.be.greaterThan(0);
    // Reads are not limited, and another identity still writes.
    expect((await call(base.inventory, 'GET', `/api/v1/inventory/${variantId}`, undefined, bearer(tokens.admin!))).status).to.equal(200);
    const other = await testAuth.mintToken('another-client', ['inventory:reserve']);
    expect((await call(base.inventory, 'POST', `/api/v1/inventory/${variantId}/reserve`, { quantity: 1, reservationId: 'other-1', ttlSeconds: 60 }, bearer(other))).status).to.equal(200);
  });

  it('writes no token into its logs, and answers an oversized body with 413', async () => {
    const big = await call(base.inventory, 'POST', '/api/v1/inventory/adjust-stock', { productVariantId: variantId, changeType: 'RESTOCK', quantity: 1, reason: 'x'.repeat(200_000) });
    expect(big.status).to.equal(413);
    expect(big.body.error).to.equal('PAYLOAD_TOO_LARGE');
    for (const child of [inventory, product]) {
      for (const token of Object.values(tokens)) {
        expect(child.output()).to.not.contain(token.split('.')[2]); // not even the signature
      }
      expect(child.output()).to.not.contain(process.env.INVENTORY_API_TOKEN!.split('.')[2]);
    }
  });
});
