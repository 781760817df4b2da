// Bearer-token authentication for the HTTP endpoints: a JWT (RFC 9068 style:
// `sub` names the calling service or user, `scope` holds space-separated
// scopes) verified with jose against a public key file or a JWKS URL, with the
// issuer and audience pinned. Errors never echo the token.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import type { HttpAuthConfig } from '../config.ts';
import { HttpError } from './errors.ts';

export interface Identity {
  subject: string;
  /** What the token allows; scope names are the services' business (services/access.ts). */
  scopes: ReadonlySet<string>;
  /** HTTP_AUTH=off: every scope. */
  unrestricted?: true;
}

export interface TokenVerifier {
  /** The identity behind an Authorization header; throws a 401 HttpError. */
  authenticate(authorization: string | undefined): Promise<Identity>;
  /** The identity of a token verified before and not yet expired, without a promise (the common case). */
  known?(authorization: string | undefined): Identity | undefined;
}

/** Anyone may do anything: only with HTTP_AUTH=off, on a trusted machine. */
const ANYONE: Identity = { subject: 'anonymous', scopes: new Set(), unrestricted: true };

export const allows = (identity: Identity, scope: string): boolean => identity.unrestricted === true || identity.scopes.has(scope);
export const OPEN_ACCESS: TokenVerifier = { authenticate: async () => ANYONE, known: () => ANYONE };

const CLOCK_TOLERANCE_SECONDS = 30;
const VERIFIED_TOKENS_KEPT = 10_000;

const ALGORITHMS: Record<string, string[]> = { ed25519: ['EdDSA'], ec: ['ES256', 'ES384', 'ES512'], rsa: ['RS256', 'RS384', 'RS512', 'PS256'] };

export const unauthenticated = (message: string) => new HttpError(401, 'UNAUTHENTICATED', message, {}, { 'www-authenticate': 'Bearer error="invalid_token"' });

export const forbidden = (identity: Identity, scope: string) =>
  new HttpError(
    403,
    'FORBIDDEN',
    `'${identity.subject}' lacks the scope '${scope}' this needs`,
    { requiredScope: scope },
    {
      'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"`,
    },
  );

/** Why a token was refused, in words that reveal nothing about the token itself. */
function refusal(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the token's '${error.claim}' claim is not accepted`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token is not signed by a trusted key';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "the token's algorithm is not accepted";
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the token is not signed by a trusted key';
  if (error instanceof joseErrors.JOSEError) return 'the token is malformed';
  throw error; // e.g. the JWKS endpoint is down: not the caller's fault
}

export function createTokenVerifier(config: HttpAuthConfig): TokenVerifier {
  if (config.mode === 'off') return OPEN_ACCESS;
  let key: crypto.KeyObject | JWTVerifyGetKey;
  let algorithms: string[];
  if (config.jwksUrl) {
    key = createRemoteJWKSet(new URL(config.jwksUrl));
    algorithms = Object.values(ALGORITHMS).flat();
  } else {
    let pem: string;
    try {
      pem = fs.readFileSync(config.publicKeyFile, 'utf8');
    } catch {
      throw new Error(
        `HTTP auth: no token verification key at ${config.publicKeyFile}. npm start creates one under .local/auth; ` +
          'or set AUTH_PUBLIC_KEY_FILE or AUTH_JWKS_URL, or HTTP_AUTH=off for an open API on a trusted machine',
      );
    }
    const publicKey = crypto.createPublicKey(pem);
    key = publicKey;
    algorithms = ALGORITHMS[publicKey.asymmetricKeyType ?? ''] ?? [];
    if (algorithms.length === 0) throw new Error(`HTTP auth: ${config.publicKeyFile} holds a ${publicKey.asymmetricKeyType} key; use Ed25519, EC or RSA`);
  }
  // A token verified once stays valid, unchanged, until it expires: callers
  // send the same token on every request, and a signature check costs more
  // than the rest of a read. So verified tokens are kept (bounded, least
  // recently used first out) until their expiry. The flip side: a key removed
  // from a JWKS still admits tokens verified before, until they expire.
  const verified = new LRUCache<string, Identity>({ max: VERIFIED_TOKENS_KEPT });
  const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;
  return {
    known(authorization) {
      const match = authorization === undefined ? null : BEARER.exec(authorization.trim());
      return match ? verified.get(match[1]!) : undefined;
    },
    async authenticate(authorization) {
      const match = BEARER.exec(authorization?.trim() ?? '');
      if (!authorization) throw unauthenticated('a bearer token is required (Authorization: Bearer <token>)');
      if (!match) throw unauthenticated('the Authorization header is not a bearer token');
      const token = match[1]!;
      const known = verified.get(token);
      if (known) return known;
      try {
        const { payload } = await jwtVerify(token, key as crypto.KeyObject, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms,
          requiredClaims: ['sub', 'exp'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
        });
        const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
        const identity = { subject: payload.sub!, scopes: new Set(scopes) };
        const ttl = (payload.exp! + CLOCK_TOLERANCE_SECONDS) * 1000 - Date.now();
        if (ttl > 0) verified.set(token, identity, { ttl });
        return identity;
      } catch (error) {
        throw unauthenticated(refusal(error));
      }
    },
  };
}
