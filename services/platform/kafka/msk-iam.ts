// AWS MSK IAM authentication. MSK's IAM listeners speak SASL/OAUTHBEARER with
// a token that AWS's signer (aws-msk-iam-sasl-signer-js) makes from the default
// AWS credential chain: a presigned kafka-cluster:Connect request, valid for 15
// minutes at most. kafkajs asks for a token on every authentication of every
// connection, including re-authentications (see docs/msk-iam.md), so tokens are
// cached here until shortly before they expire.
import type { OauthbearerProviderResponse } from 'kafkajs';

/** A bearer token and when the broker stops accepting it (ms since the epoch). */
export interface BearerToken {
  token: string;
  expiresAt: number;
}

/** Makes a token: AWS's signer in production, an unsigned JWT against the embedded broker in tests. */
export type TokenSource = () => Promise<BearerToken>;

/** AWS's generateAuthToken, as far as it is used here: a parameter, so tests can stand in for it. */
export type MskSigner = (options: { region: string }) => Promise<{ token: string; expiryTime: number }>;

// Loaded on first use: the AWS SDK is large, and only IAM deployments need it.
const awsSigner: MskSigner = async (options) => (await import('aws-msk-iam-sasl-signer-js')).generateAuthToken(options);

/** Signs a fresh token for the region on every call, with credentials from the default AWS chain. */
export function mskIamTokenSource(region: string, sign: MskSigner = awsSigner): TokenSource {
  return async () => {
    try {
      const { token, expiryTime } = await sign({ region });
      return { token, expiresAt: expiryTime };
    } catch (error) {
      // The SDK's own messages ("Could not load credentials from any providers") do not say what needed them.
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`MSK IAM: could not sign a token for ${region}: ${reason}`, { cause: error });
    }
  };
}

export interface TokenCacheOptions {
  /** Fetch a new token this long before the cached one expires (default 60 s), or at half its life if that is sooner. */
  refreshBeforeMs?: number;
  now?: () => number;
}

/**
 * Serves one token to every caller until shortly before it expires, so that
 * connecting or re-authenticating many connections signs once. Concurrent
 * callers share one fetch. A failed refresh is not cached: the next caller
 * tries again, and meanwhile a token that has not expired is still served.
 */
export function cachedTokenSource(source: TokenSource, options: TokenCacheOptions = {}): TokenSource {
  const { refreshBeforeMs = 60_000, now = Date.now } = options;
  let cached: { token: BearerToken; refreshAt: number } | undefined;
  let pending: Promise<BearerToken> | undefined;

  const refresh = async (): Promise<BearerToken> => {
    const fetchedAt = now();
    try {
      const token = await source();
      if (!token.token || !(token.expiresAt > fetchedAt)) throw new Error('the token source returned an empty or expired token');
      // Half the life at most: a short-lived token (from credentials about to
      // expire) is still used, not fetched again on every call.
      cached = { token, refreshAt: token.expiresAt - Math.min(refreshBeforeMs, (token.expiresAt - fetchedAt) / 2) };
      return token;
    } catch (error) {
      if (cached && now() < cached.token.expiresAt) return cached.token;
      throw error;
    }
  };

  return () => {
    if (cached && now() < cached.refreshAt) return Promise.resolve(cached.token);
    // Cleared in a later tick, so a source that fails at once cannot leave a settled promise behind.
    pending ??= refresh().finally(() => (pending = undefined));
    return pending;
  };
}

const byRegion = new Map<string, TokenSource>();

/** The process's one cached signer per region, shared by every Kafka client (the services make several). */
export function defaultTokenSource(region: string): TokenSource {
  let source = byRegion.get(region);
  if (!source) byRegion.set(region, (source = cachedTokenSource(mskIamTokenSource(region))));
  return source;
}

/** kafkajs' oauthBearerProvider: called for every authentication and re-authentication. */
export function oauthBearerProvider(source: TokenSource): () => Promise<OauthbearerProviderResponse> {
  return async () => ({ value: (await source()).token });
}
