// HTTPS without Kafka: a service's HTTP server on TLS with a certificate a local
// CA signed (the helpers npm start -- --secure uses), and the product service's
// calls to inventory over it. A client trusting another CA is refused.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { expect } from 'chai';
import { Agent, fetch } from 'undici';
import { localDir } from '../../scripts/embedded/layout.ts';
import { ensurePki, ensureServerCertificate, type Pki, type ServerCertificate } from '../../scripts/embedded/pki.ts';
import { loadConfig } from '../../services/platform/config.ts';
import { route } from '../../services/platform/http/route.ts';
import type { HttpServer } from '../../services/platform/http/server.ts';
import { unitServer } from '../support/unit-server.ts';
import { createLogger } from '../../services/platform/logger.ts';
import { createInventoryClient } from '../../services/product/inventory-client.ts';

/** Why a request failed: the TLS or socket error fetch keeps as its cause. */
async function refusal(request: Promise<unknown>): Promise<string | undefined> {
  const error = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the request should have failed').to.be.instanceOf(Error);
  return ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
}

describe('HTTPS', function () {
  // The first run makes two CAs with keytool (a few seconds each); later runs reuse them.
  this.timeout(120_000);
  const dir = path.join(localDir, 'test-https');
  let trusted: Pki;
  let other: Pki;
  let certificate: ServerCertificate;
  let server: HttpServer;
  let base: string;
  const trusting = (pki: Pki) => new Agent({ connect: { ca: fs.readFileSync(pki.caPem, 'utf8') } });

  before(async () => {
    trusted = ensurePki(path.join(dir, 'trusted'), 'https-test');
    other = ensurePki(path.join(dir, 'other'), 'impostor');
    certificate = ensureServerCertificate(trusted, 'server');
    server = unitServer({
      tls: certificate,
      routes: [
        route({
          method: 'get',
          path: '/api/v1/inventory',
          scope: 'inventory:read',
          summary: 'stock',
          query: Type.Object({ productVariantIds: Type.String() }),
          responses: { 200: 'stock' },
          handle: ({ query }) => ({
            status: 200,
            body: query.productVariantIds.split(',').map((id) => ({ productVariantId: id, availableQuantity: 7, status: 'IN_STOCK', updatedAt: '2026-01-01T00:00:00.000Z' })),
          }),
        }),
      ],
    });
    await server.start();
    base = `https://127.0.0.1:${server.port()}`;
  });
  after(() => server?.stop());

  it('serves a client that trusts the CA that signed its certificate, by address and by name', async () => {
    const dispatcher = trusting(trusted);
    const live = await fetch(`${base}/health/live`, { dispatcher });
    expect(live.status).to.equal(200);
    expect(await live.json()).to.deep.equal({ status: 'live' });
    expect((await fetch(`https://localhost:${server.port()}/metrics`, { dispatcher })).status).to.equal(200);
  });

  it('is refused by a client trusting another CA, or only the public ones', async () => {
    expect(await refusal(fetch(`${base}/health/live`, { dispatcher: trusting(other) }))).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(await refusal(fetch(`${base}/health/live`))).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('does not answer plain HTTP on its port', async () => {
    // The TLS server hangs up on bytes that are not a TLS handshake.
    expect(await refusal(fetch(`http://127.0.0.1:${server.port()}/health/live`, { signal: AbortSignal.timeout(5000) }))).to.equal('UND_ERR_SOCKET');
  });

  describe("the product service's calls to inventory", () => {
    const client = (ca?: string) =>
      createInventoryClient({ baseUrl: base, logger: createLogger('unit', 'silent'), policy: { timeoutMs: 5000, attempts: 1, breakAfter: 5, halfOpenAfterMs: 1000 }, ca });

    it('succeed when inventory has a certificate the configured CA signed', async () => {
      const [stock] = await client(fs.readFileSync(trusted.caPem, 'utf8')).stock(['v-1']);
      expect(stock).to.include({ productVariantId: 'v-1', availableQuantity: 7 });
    });

    it('fail, saying why, when another CA signed it, and never skip the check without a CA', async () => {
      const why = /^inventory cannot be reached: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/;
      await client(fs.readFileSync(other.caPem, 'utf8'))
        .stock(['v-1'])
        .then(
          () => expect.fail('trusted a certificate another CA signed'),
          (e: Error) => expect(e.message).to.match(why),
        );
      await client(undefined)
        .stock(['v-1'])
        .then(
          () => expect.fail("trusted a certificate no CA of Node's signed"),
          (e: Error) => expect(e.message).to.match(why),
        );
    });
  });

  describe('configuration', () => {
    it('takes a certificate, its key and a CA, each read and checked at start', () => {
      const env = { HTTP_TLS_CERT_FILE: certificate.certFile, HTTP_TLS_KEY_FILE: certificate.keyFile, HTTP_TLS_CA_FILE: trusted.caPem };
      expect(loadConfig(env).http).to.deep.include({ tls: { certFile: certificate.certFile, keyFile: certificate.keyFile }, peerCaFile: trusted.caPem });
      expect(loadConfig({}).http).to.not.have.any.keys('tls', 'peerCaFile');
    });

    it("refuses a key that is not the certificate's, naming the variable and never the key", () => {
      const stranger = path.join(dir, 'stranger-key.pem');
      const pem = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
      fs.writeFileSync(stranger, pem, { mode: 0o600 });
      const message = (() => {
        try {
          loadConfig({ HTTP_TLS_CERT_FILE: certificate.certFile, HTTP_TLS_KEY_FILE: stranger });
        } catch (error) {
          return (error as Error).message;
        }
        return 'accepted';
      })();
      expect(message).to.equal(`invalid configuration:\n  - HTTP_TLS_KEY_FILE: '${stranger}' is not the private key of the certificate in HTTP_TLS_CERT_FILE`);
      expect(message).to.not.contain(String(pem).split('\n')[1]);
    });
  });
});
