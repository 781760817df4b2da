// The system's access model: what a bearer token may allow, and which caller is
// meant to hold what. The HTTP endpoints are internal, but one service must not
// do another's job: the order service reserves, releases and records sales; the
// product service only reads stock; changing stock by hand is an administrator's.

export const SCOPES = ['catalog:read', 'catalog:write', 'inventory:read', 'inventory:reserve', 'inventory:release', 'inventory:sell', 'inventory:admin', 'orders:read', 'orders:write'] as const;

export type Scope = (typeof SCOPES)[number];

/** The identities a local setup mints tokens for (npm start, npm run token). */
export const IDENTITIES: Record<string, { scopes: readonly Scope[]; what: string }> = {
  'order-service': { scopes: ['inventory:read', 'inventory:reserve', 'inventory:release', 'inventory:sell'], what: 'reserve, release and record sales' },
  'product-service': { scopes: ['inventory:read'], what: 'read inventory (real-time stock)' },
  storefront: { scopes: ['catalog:read', 'orders:read', 'orders:write'], what: 'browse the catalogue and place orders' },
  admin: { scopes: SCOPES, what: 'everything, including stock adjustments and catalogue changes' },
};
