import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { servicePorts } from '../../scripts/service-ports.ts';
import { orderSettings } from '../../services/order/config.ts';
import { ConfigError, DEFAULT_REGISTRY_URL, loadConfig, readPlatformConfig } from '../../services/platform/config.ts';
import { createEnvReader } from '../../services/platform/env.ts';
import { productSettings } from '../../services/product/config.ts';

/** The platform's settings and a service's, read together as a service starts. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    const reader = createEnvReader(env);
    readPlatformConfig(reader);
    orderSettings(reader);
    reader.check();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration from the environment', () => {
  it('defaults to the embedded broker and registry', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).to.deep.equal(['127.0.0.1:9092']);
    expect(config.kafka.embedded).to.equal(true);
    expect(config.schemaRegistryUrl).to.equal(DEFAULT_REGISTRY_URL);
    expect(servicePorts({})).to.deep.equal({ product: 3001, inventory: 3002, order: 3003 });
    expect(config.topicPrefix).to.equal('');
  });

  it('reads brokers, prefix and ports', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', TOPIC_PREFIX: 'x.', PRODUCT_PORT: '4001', SCHEMA_REGISTRY_URL: 'http://r:1/' });
    expect(config.kafka.brokers).to.deep.equal(['a:1', 'b:2']);
    expect(config.kafka.embedded).to.equal(false);
    expect(config.topicPrefix).to.equal('x.');
    expect(servicePorts({ PRODUCT_PORT: '4001' }).product).to.equal(4001);
    expect(config.schemaRegistryUrl).to.equal('http://r:1');
  });

  it('names every bad variable, what was given and what is wanted, all at once', () => {
    const problems = problemsOf({
      KAFKA_BROKERS: 'localhost',
      SCHEMA_REGISTRY_URL: 'registry',
      TOPIC_PREFIX: 'bad prefix!',
      ORDER_PORT: '70000',
      KAFKA_PROFILE: 'cloud',
    });
    expect(problems).to.have.length(5);
    expect(problems[0]).to.equal("KAFKA_BROKERS: 'localhost' is not a comma-separated list of host:port (e.g. 127.0.0.1:9092)");
    expect(problems.join('\n')).to.contain("SCHEMA_REGISTRY_URL: 'registry' is not an http(s) URL");
    expect(problems.join('\n')).to.contain("TOPIC_PREFIX: 'bad prefix!' may only hold");
    expect(problems.join('\n')).to.contain("ORDER_PORT: '70000' is not a port number (1-65535)");
    expect(problems.join('\n')).to.contain("KAFKA_PROFILE: 'cloud' is not one of local, cluster, msk");
  });

  it('requires credentials with a SASL mechanism', () => {
    const problems = problemsOf({ KAFKA_SASL_MECHANISM: 'scram-sha-512' });
    expect(problems).to.deep.equal(['KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set', 'KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set']);
  });

  it('the error message lists the problems one per line', () => {
    expect(() => servicePorts({ PRODUCT_PORT: 'abc' })).to.throw("invalid configuration:\n  - PRODUCT_PORT: 'abc' is not a port number (1-65535)");
  });

  it("reads each service's own settings, with today's resilience policies as defaults", () => {
    const order = orderSettings(createEnvReader({ PRODUCT_DETAILS_TIMEOUT_MS: '500', ORDER_SAGA_TIMEOUT_MS: '60000' }));
    expect(order.productDetails).to.deep.equal({ timeoutMs: 500, attempts: 2, breakAfter: 5, halfOpenAfterMs: 10_000 });
    expect(order.saga).to.deep.equal({ sagaTimeoutMs: 60_000, paymentWindowMs: 900_000 });
    const product = productSettings(createEnvReader({ INVENTORY_PORT: '4002', INVENTORY_CLIENT_ATTEMPTS: '1' }));
    expect(product.inventoryUrl).to.equal('http://127.0.0.1:4002');
    expect(product.inventoryClient).to.deep.equal({ timeoutMs: 800, attempts: 1, breakAfter: 5, halfOpenAfterMs: 10_000 });
    expect(problemsOf({ PRODUCT_DETAILS_ATTEMPTS: '0' })).to.deep.equal(["PRODUCT_DETAILS_ATTEMPTS: '0' is not a whole number from 1 to 10"]);
  });

  describe('security', () => {
    const msk = { KAFKA_BROKERS: 'b-1.msk.example:9096', KAFKA_PROFILE: 'msk' };
    const scram = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'order', KAFKA_SASL_PASSWORD: 's3cret-value' };

    it('refuses plaintext with the msk profile, saying what to set', () => {
      const problems = problemsOf(msk);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^KAFKA_PROFILE=msk: plaintext is refused; set KAFKA_SSL=true/);
      expect(problemsOf({ ...msk, ...scram })[0]).to.match(/plaintext is refused/);
    });

    it('accepts SASL/SCRAM-SHA-512 over TLS with the msk profile', () => {
      const config = loadConfig({ ...msk, ...scram, KAFKA_SSL: 'true' });
      expect(config.kafka.security).to.deep.equal({ ssl: { rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'order', password: 's3cret-value' } });
    });

    it('refuses an unverified broker certificate, or open HTTP endpoints, with the msk profile', () => {
      expect(problemsOf({ ...msk, ...scram, KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' })[0]).to.contain('must be verified');
      expect(problemsOf({ ...msk, ...scram, KAFKA_SSL: 'true', HTTP_AUTH: 'off' })[0]).to.contain('HTTP_AUTH=off is refused');
    });

    it('never repeats a password in its problems', () => {
      const problems = problemsOf({ ...msk, ...scram, KAFKA_SASL_MECHANISM: 'kerberos' });
      expect(problems.join('\n')).to.not.contain('s3cret-value');
    });

    it('verifies bearer tokens by default, with a local key, issuer and audience', () => {
      const { auth, writesPerMinute } = loadConfig({}).http;
      expect(auth).to.include({ mode: 'jwt', issuer: 'commerce-core-local', audience: 'commerce-core' });
      expect(auth.mode === 'jwt' && auth.publicKeyFile).to.match(/\.local\/auth\/public-key\.pem$/);
      expect(writesPerMinute).to.equal(1200);
      expect(loadConfig({ HTTP_AUTH: 'off' }).http.auth).to.deep.equal({ mode: 'off' });
      expect(problemsOf({ HTTP_AUTH: 'maybe' })).to.deep.equal(["HTTP_AUTH: 'maybe' is neither 'jwt' nor 'off'"]);
      expect(problemsOf({ AUTH_JWKS_URL: 'http://idp.example/jwks' })[0]).to.contain('is not an https URL');
    });

    // Valid files, and a key that is not the certificate's: test/unit/https.unit.test.ts.
    describe('HTTPS files', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-tls-'));
      const missing = path.join(dir, 'missing.pem');
      const junk = path.join(dir, 'junk.pem');
      fs.writeFileSync(junk, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
      after(() => fs.rmSync(dir, { recursive: true, force: true }));

      it('wants both a certificate and its key, or neither', () => {
        expect(problemsOf({ HTTP_TLS_CERT_FILE: junk })).to.include('HTTP_TLS_KEY_FILE: required with HTTP_TLS_CERT_FILE (HTTPS needs the certificate and its private key)');
        expect(problemsOf({ HTTP_TLS_KEY_FILE: junk })).to.include('HTTP_TLS_CERT_FILE: required with HTTP_TLS_KEY_FILE (HTTPS needs the certificate and its private key)');
      });

      it('names each file that cannot be read or does not hold what it should, at start', () => {
        expect(problemsOf({ HTTP_TLS_CERT_FILE: missing, HTTP_TLS_KEY_FILE: junk, HTTP_TLS_CA_FILE: missing })).to.deep.equal([
          `HTTP_TLS_CERT_FILE: cannot read '${missing}' (ENOENT)`,
          `HTTP_TLS_KEY_FILE: '${junk}' does not hold an unencrypted PEM private key`,
          `HTTP_TLS_CA_FILE: cannot read '${missing}' (ENOENT)`,
        ]);
        expect(problemsOf({ HTTP_TLS_CA_FILE: junk })).to.deep.equal([`HTTP_TLS_CA_FILE: '${junk}' does not hold a PEM certificate`]);
      });
    });
  });
});
