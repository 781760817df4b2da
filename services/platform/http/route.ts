// A route declared with its input schemas: the same declaration validates each
// request (answering 400 naming the field) and describes the API in OpenAPI.
import { KindGuard, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import { compileValidator } from '../validation.ts';
import { allows, forbidden, type Identity } from './auth.ts';
import { badRequest } from './errors.ts';

/** A scope a bearer token must hold; which scopes exist is the services' business (services/access.ts). */
export type Scope = string;

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteInput<P extends TObject, Q extends TObject, B extends TSchema, H extends TObject = TObject> {
  params: Static<P>;
  query: Static<Q>;
  body: Static<B>;
  headers: Static<H> & Request['headers'];
  correlationId: string;
  /** Who is calling, from their bearer token. */
  identity: Identity;
  req: Request;
}

/** A scope that depends on the request, e.g. a sale or a manual stock change. */
export interface ScopeRule<I = RouteInput<TObject, TObject, TSchema>> {
  /** Every scope pick may return, for the OpenAPI description. */
  anyOf: Scope[];
  pick(input: I): Scope;
}

export interface Route<P extends TObject = TObject, Q extends TObject = TObject, B extends TSchema = TSchema, H extends TObject = TObject> {
  method: Method;
  /** Express path, e.g. /api/v1/inventory/:variantId */
  path: string;
  summary: string;
  tags?: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Request headers the route reads, with lower-case names (validated and documented like the rest). */
  headers?: H;
  /** The scope a caller's token must hold. */
  scope: Scope | ScopeRule<RouteInput<P, Q, B, H>>;
  /** Response statuses this route answers with, for the OpenAPI description. */
  responses: Record<number, string>;
  /**
   * Whom a write is for, when not the caller itself (an end customer, an
   * order): its rate limit counts per caller and this key. Read before the
   * input is validated, so it must tolerate any body.
   */
  rateLimitKey?(req: Request): string | undefined;
  handle(input: RouteInput<P, Q, B, H>): Promise<RouteResponse> | RouteResponse;
}

export function route<P extends TObject, Q extends TObject, B extends TSchema, H extends TObject = TObject>(definition: Route<P, Q, B, H>): Route {
  return definition;
}

/** A body declared with Type.Optional may be left out. */
export function bodyRequired(r: Route): boolean {
  return r.body !== undefined && !KindGuard.IsOptional(r.body);
}

type Check = (value: unknown) => { ok: true; value: unknown } | { ok: false; errors: string[] };

export function routeScopes(r: Route): Scope[] {
  return typeof r.scope === 'string' ? [r.scope] : r.scope.anyOf;
}

export function compileRoute(r: Route): (req: Request, res: Response, correlationId: string, identity: Identity) => Promise<RouteResponse> | RouteResponse {
  const check = (schema: TSchema | undefined, root: string): Check => (schema ? compileValidator(schema, root) : (value) => ({ ok: true, value }));
  const params = check(r.params, 'path');
  const query = check(r.query, 'query');
  const body = check(r.body, 'body');
  const headers = check(r.headers, 'header');
  const declaredHeaders = Object.keys(r.headers?.properties ?? {});
  const needsBody = bodyRequired(r);
  const { scope } = r;
  // Synchronous unless the handler is: most reads answer without a promise in between.
  return (req, res, correlationId, identity) => {
    // A fixed scope is checked before the input, so a caller without it learns nothing from validation.
    if (typeof scope === 'string' && !allows(identity, scope)) throw forbidden(identity, scope);
    const errors: string[] = [];
    const valueOf = (result: ReturnType<Check>): never => {
      if (result.ok) return result.value as never;
      errors.push(...result.errors);
      return undefined as never;
    };
    const p = valueOf(params({ ...req.params }));
    const q = valueOf(query({ ...(req.query as object) }));
    // Only the declared headers are validated; the rest pass through untouched.
    valueOf(headers(Object.fromEntries(declaredHeaders.filter((h) => req.headers[h] !== undefined).map((h) => [h, req.headers[h]]))));
    if (needsBody && req.body === undefined) errors.push('body is required (JSON with Content-Type: application/json)');
    const b = r.body && req.body !== undefined ? valueOf(body(req.body)) : (undefined as never);
    if (errors.length) throw badRequest(errors.join('; '), { problems: errors });
    const input = { params: p, query: q, body: b, headers: req.headers, correlationId, identity, req };
    if (typeof scope !== 'string') {
      const picked = scope.pick(input);
      if (!allows(identity, picked)) throw forbidden(identity, picked);
    }
    return r.handle(input);
  };
}
