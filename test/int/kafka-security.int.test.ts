// The embedded stack in secure mode (TLS, SCRAM-SHA-512, the KRaft
// StandardAuthorizer denying by default, ACLs from topology/access.yaml):
// strangers are refused, each service principal reaches only its own topics,
// TLS is verified, and the whole system still runs as its three principals.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Kafka } from 'kafkajs';
import { stacks } from '../../scripts/embedded/layout.ts';
import { deleteRunArtifacts } from '../../scripts/run-artifacts.ts';
import { ensurePki } from '../../scripts/embedded/pki.ts';
import { credentials, secureClientEnv } from '../../scripts/embedded/secure.ts';
import { down, up } from '../../scripts/embedded/stack.ts';
import { loadConfig, type KafkaSecurity } from '../../services/platform/config.ts';
import { createKafka } from '../../services/platform/kafka/client.ts';
import { createLogger } from '../../services/platform/logger.ts';
import { startChildSystem, type ChildSystem } from '../support/child-system.ts';
import { isEmbedded, provision, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call } from '../support/http.ts';

const secure = stacks.secure;

function kafkaAs(security: KafkaSecurity, clientId = 'security-test'): Kafka {
  return createKafka({ brokers: [secure.brokers], clientId, security, connectionTimeoutMs: 3000, retries: 1, logger: createLogger(clientId, 'silent') });
}
const securityOf = (principal: string) => loadConfig(secureClientEnv(principal)).kafka.security;

/** The error a promise fails with (it must fail). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure, but it succeeded');
}

/** The message of an error and the errors it wraps, for matching. */
const described = (error: Error) => {
  const parts: string[] = [];
  for (let e: any = error, depth = 0; e && depth < 6; e = e.cause ?? e.originalError, depth++) parts.push(`${e.name}: ${e.message} ${e.type ?? ''}`);
  return parts.join(' <- ');
};

(isEmbedded() ? describe : describe.skip)('Kafka in secure mode (embedded: TLS, SCRAM-SHA-512, ACLs)', function () {
  this.timeout(300_000);
  let startedStack = false;
  let env: TestEnvironment;

  before(async () => {
    const result = await up(() => {}, 'secure');
    startedStack = result.startedBroker || result.startedRegistry;
    env = await provision('secure', secureClientEnv('admin'));
  });
  after(async () => {
    await env?.close();
    if (env) await deleteRunArtifacts(env.prefix, secureClientEnv('admin'));
    if (startedStack && !process.env.KEEP_KAFKA) await down(() => {}, 'secure');
  });

  it('refuses a client without credentials, with a wrong password, or without TLS', async () => {
    const tls = securityOf('admin').ssl!;
    // The broker closes a connection that skips the SASL handshake, or speaks plaintext to its TLS port.
    const attempts: [string, KafkaSecurity, RegExp][] = [
      ['no credentials', { ssl: tls }, /Closed connection/],
      ['a wrong password', { ssl: tls, sasl: { mechanism: 'scram-sha-512', username: 'product', password: 'guessed' } }, /SASLAuthenticationError.*invalid credentials/],
      ['no TLS', { sasl: { mechanism: 'scram-sha-512', username: 'admin', password: credentials().admin! } }, /Closed connection/],
    ];
    for (const [what, security, expected] of attempts) {
      const admin = kafkaAs(security).admin({ retry: { retries: 0 } });
      const error = await failure(admin.connect().then(() => admin.listTopics()));
      await admin.disconnect().catch(() => {});
      expect(described(error), what).to.match(expected);
    }
  });

  it('verifies the broker certificate: a client trusting another CA is refused', async () => {
    const other = ensurePki(path.join(os.tmpdir(), 'commerce-core-other-ca'), 'impostor');
    const security = { ...securityOf('admin'), ssl: { caFile: other.caPem, rejectUnauthorized: true } };
    const admin = kafkaAs(security).admin({ retry: { retries: 0 } });
    const error = await failure(admin.connect());
    await admin.disconnect().catch(() => {});
    expect(described(error)).to.match(/certificate|self[- ]signed|verify/i);
  });

  it('lets the product principal write its own commands but not inventory.commands', async () => {
    const producer = kafkaAs(securityOf('product')).producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      await producer.send({ topic: env.topics.productCommands.name, messages: [{ key: 'p-1', value: 'not avro, never read' }] });
      const error = await failure(producer.send({ topic: env.topics.inventoryCommands.name, messages: [{ key: 'v-1', value: 'x' }] }));
      expect(described(error)).to.match(/TOPIC_AUTHORIZATION_FAILED|Not authorized/i);
    } finally {
      await producer.disconnect();
    }
  });

  it('does not let the order principal read product.commands', async () => {
    const kafka = kafkaAs(securityOf('order'));
    // A group the order principal owns, so only the topic ACL can refuse it.
    const consumer = kafka.consumer({ groupId: `${env.prefix}order-snoop-${crypto.randomUUID()}`, retry: { retries: 0 } });
    const seen: string[] = [];
    let crashed: Error | undefined;
    consumer.on(consumer.events.CRASH, (e) => (crashed = e.payload.error));
    await consumer.connect();
    try {
      const error = await failure(
        (async () => {
          await consumer.subscribe({ topics: [env.topics.productCommands.name], fromBeginning: true });
          await consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.key)) });
          await eventually(() => expect(crashed).to.not.equal(undefined), 30_000);
          throw crashed ?? new Error('no crash');
        })(),
      );
      expect(described(error)).to.match(/TOPIC_AUTHORIZATION_FAILED|Not authorized/i);
      expect(seen).to.deep.equal([]);
      // The order principal does read what it consumes.
      const offsets = await kafka
        .admin()
        .fetchTopicOffsets(env.topics.productEvents.name)
        .catch((e: Error) => e);
      expect(offsets).to.not.be.instanceOf(Error);
    } finally {
      await consumer.disconnect();
    }
  });

  describe('the three services, each as its own principal', () => {
    let system: ChildSystem;
    let base: ChildSystem['base'];

    before(async () => {
      const common = { TOPIC_PREFIX: env.prefix, DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'secure-')) };
      system = await startChildSystem('secure', common, { envFor: secureClientEnv, readyWithinMs: 120_000 });
      base = system.base;
    });
    after(async () => {
      await system?.stop();
    });

    it('creates a product, reserves stock and confirms an order, writing no password to the logs', async () => {
      const created = await call(base.product, 'POST', '/api/v1/products', { name: 'Secure lamp', currency: 'EUR', variants: [{ sku: `SEC-${env.prefix}`, price: 12, initialStock: 5 }] });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const variantId = created.body.variants[0].id as string;
      await eventually(async () => expect((await call(base.product, 'GET', `/api/v1/products/${created.body.id}`)).body.variants[0].status).to.equal('ACTIVE'), 60_000);
      const placed = await eventually(async () => {
        const res = await call(base.order, 'POST', '/api/v1/orders', { customerId: 'secure', items: [{ variantId, quantity: 2 }] }, { 'idempotency-key': 'secure-1' });
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        return res;
      }, 30_000);
      const settled = await call(base.order, 'GET', `/api/v1/orders/${placed.body.orderId}?waitFor=CONFIRMED,REJECTED&timeoutMs=30000`);
      expect(settled.body.status).to.equal('CONFIRMED');
      await eventually(async () => expect((await call(base.inventory, 'GET', `/api/v1/inventory/${variantId}`)).body.availableQuantity).to.equal(3), 30_000);

      const passwords = Object.values(credentials());
      for (const child of Object.values(system.services)) {
        expect(child.output()).to.not.match(/authorization failed|not authorized/i);
        for (const password of passwords) expect(child.output()).to.not.contain(password);
      }
    });
  });
});
