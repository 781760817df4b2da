// Token verification without a server: scopes come from the token, refusals
// say why without echoing it, and a verified token kept for speed is still
// refused once it expires.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { runAuth } from '../../scripts/local-auth.ts';
import { LOCAL_TOKEN_ISSUER, TOKEN_AUDIENCE } from '../../services/platform/config.ts';
import { createTokenVerifier } from '../../services/platform/http/auth.ts';
import { HttpError } from '../../services/platform/http/errors.ts';

const auth = runAuth('unit');
const verifier = () => createTokenVerifier({ mode: 'jwt', publicKeyFile: auth.env.AUTH_PUBLIC_KEY_FILE!, issuer: LOCAL_TOKEN_ISSUER, audience: TOKEN_AUDIENCE });

async function refusal(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error('expected a refusal');
}

describe('bearer token verification', () => {
  it('gives the identity and scopes a token carries, the same when asked again', async () => {
    const v = verifier();
    const token = await auth.tokenFor('order-service');
    const first = await v.authenticate(`Bearer ${token}`);
    expect(first.subject).to.equal('order-service');
    expect([...first.scopes]).to.have.members(['inventory:read', 'inventory:reserve', 'inventory:release', 'inventory:sell']);
    expect(await v.authenticate(`Bearer ${token}`)).to.deep.equal(first);
  });

  it('refuses a token signed by another key, without echoing it', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const foreign = await new SignJWT({ scope: 'inventory:admin' })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject('x')
      .setIssuer(LOCAL_TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setExpirationTime('1h')
      .sign(privateKey);
    const error = await refusal(verifier().authenticate(`Bearer ${foreign}`));
    expect(error.status).to.equal(401);
    expect(error.message).to.equal('the token is not signed by a trusted key');
    expect(JSON.stringify(error)).to.not.contain(foreign.split('.')[2]);
  });

  it('stops accepting a verified token once it expires (30 s clock tolerance included)', async function () {
    this.timeout(5000);
    const v = verifier();
    // Expired 29 s ago: within the tolerance for one more second.
    const token = await auth.mintToken('admin', ['inventory:read'], { ttlSeconds: -29 });
    expect((await v.authenticate(`Bearer ${token}`)).subject).to.equal('admin');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await refusal(v.authenticate(`Bearer ${token}`))).message).to.equal('the token has expired');
  });
});
