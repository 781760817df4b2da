// Local bearer tokens: an Ed25519 signing key made on first use (under
// .local/auth, readable by this user only) and tokens minted from it for the
// identities the services know. In production an identity provider does this
// and the services verify with its JWKS (AUTH_JWKS_URL); nothing here ships.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { localDir } from './embedded/layout.ts';
import { LOCAL_TOKEN_ISSUER, TOKEN_AUDIENCE } from '../services/platform/config.ts';
import { IDENTITIES } from '../services/access.ts';

export const localAuthDir = path.join(localDir, 'auth');

export interface SigningKey {
  privateKeyFile: string;
  publicKeyFile: string;
  created: boolean;
}

export function keyFiles(dir = localAuthDir): { privateKeyFile: string; publicKeyFile: string } {
  return { privateKeyFile: path.join(dir, 'signing-key.pem'), publicKeyFile: path.join(dir, 'public-key.pem') };
}

/** The signing key pair in dir, made if missing. */
export function ensureSigningKey(dir = localAuthDir): SigningKey {
  const files = keyFiles(dir);
  if (fs.existsSync(files.privateKeyFile) && fs.existsSync(files.publicKeyFile)) return { ...files, created: false };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  // Written aside and renamed, so a concurrent reader never sees half a key.
  const write = (file: string, text: string, mode: number) => {
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, text, { mode });
    fs.renameSync(partial, file);
  };
  write(files.privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  write(files.publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644);
  return { ...files, created: true };
}

export interface MintOptions {
  dir?: string;
  ttlSeconds?: number;
  issuer?: string;
}

export async function mintToken(subject: string, scopes: readonly string[], options: MintOptions = {}): Promise<string> {
  const { privateKeyFile } = keyFiles(options.dir);
  let pem: string;
  try {
    pem = fs.readFileSync(privateKeyFile, 'utf8');
  } catch {
    throw new Error(`no local signing key at ${privateKeyFile}: npm start makes one`);
  }
  return new SignJWT({ scope: scopes.join(' ') })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(options.issuer ?? LOCAL_TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 12 * 3600))
    .sign(crypto.createPrivateKey(pem));
}

/** A token for one of the known identities (order-service, product-service, storefront, admin). */
export function tokenFor(identity: string, options: MintOptions = {}): Promise<string> {
  const known = IDENTITIES[identity];
  if (!known) throw new Error(`unknown identity '${identity}' (known: ${Object.keys(IDENTITIES).join(', ')})`);
  return mintToken(identity, known.scopes, options);
}

export interface RunAuth {
  /** What the services of the run need: the key to verify with, and no rate limit in the way of a load. */
  env: Record<string, string>;
  tokenFor(identity: string): Promise<string>;
  mintToken(subject: string, scopes: readonly string[], options?: Omit<MintOptions, 'dir'>): Promise<string>;
}

/** A signing key of a run's own (tests, benchmarks, the fuzz pass), under the OS temp dir. */
export function runAuth(name: string): RunAuth {
  const dir = path.join(os.tmpdir(), `commerce-core-${name}-auth`);
  const key = ensureSigningKey(dir);
  return {
    env: { AUTH_PUBLIC_KEY_FILE: key.publicKeyFile, RATE_LIMIT_WRITES_PER_MINUTE: '10000000' },
    tokenFor: (identity) => tokenFor(identity, { dir }),
    mintToken: (subject, scopes, options = {}) => mintToken(subject, scopes, { ...options, dir }),
  };
}
