// KAFKA_SASL_MECHANISM=aws-msk-iam against a broker of our own: one embedded
// node whose client listener takes SASL/OAUTHBEARER over TLS and checks tokens
// with Kafka's unsecured JWT validator, and ends each session after a few
// seconds (connections.max.reauth.ms). AWS's signed tokens are no JWTs, so the
// client gets unsigned JWTs from a token source the test passes in, through the
// same cache production puts in front of AWS's signer. Nothing reaches AWS.
import fs from 'node:fs';
import { expect } from 'chai';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import { startBroker, stackAdmin } from '../../scripts/embedded/broker.ts';
import { testStack, type Stack } from '../../scripts/embedded/layout.ts';
import { oauthBearerPki, unsecuredJwt } from '../../scripts/embedded/oauthbearer.ts';
import { logPath, requireJava17, stop } from '../../scripts/embedded/processes.ts';
import { loadConfig, type KafkaSecurity } from '../../services/platform/config.ts';
import { createKafka } from '../../services/platform/kafka/client.ts';
import { cachedTokenSource, type TokenSource } from '../../services/platform/kafka/msk-iam.ts';
import { createLogger } from '../../services/platform/logger.ts';
import { isEmbedded } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/http.ts';

// The broker ends a session after 8 s, or when its token expires if sooner;
// kafkajs re-authenticates once less than 3 s of it are left.
const SESSION_MS = 8_000;
const REAUTH_THRESHOLD_MS = 3_000;
// The cache refreshes a 24 s token at half its life (its default lead, 60 s, is longer than that).
const TOKEN_LIFE_MS = 24_000;
const TRAFFIC_MS = 16_000;

/** Unsigned JWTs for the `order` principal, each valid for lifeMs; records when each was made. */
function jwtSource(lifeMs: number, madeAt: number[]): TokenSource {
  return async () => {
    const at = Date.now();
    // JWT times are whole seconds: report the expiry the broker will see.
    const expiresAt = Math.floor((at + lifeMs) / 1000) * 1000;
    madeAt.push(at);
    return { token: unsecuredJwt('order', at, expiresAt), expiresAt };
  };
}

/** The error a promise fails with (it must fail). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('expected a failure, but it succeeded');
}

/** An error and the errors it wraps (kafkajs' retrier keeps the last one as originalError), for matching. */
function described(error: Error): string {
  const parts: string[] = [];
  for (let e: Error | undefined = error, depth = 0; e && depth < 6; depth++) {
    parts.push(`${e.name}: ${e.message}`);
    const next: unknown = ('originalError' in e ? e.originalError : undefined) ?? e.cause;
    e = next instanceof Error ? next : undefined;
  }
  return parts.join(' <- ');
}

(isEmbedded() ? describe : describe.skip)('AWS MSK IAM wiring against an OAUTHBEARER broker (embedded, unsecured JWTs)', function () {
  this.timeout(300_000);
  let stack: Stack;
  let security: KafkaSecurity;

  before(async () => {
    requireJava17();
    stack = testStack(
      'oauthbearer',
      { kafka: await freePort(), controller: await freePort(), internal: await freePort() },
      {
        'listener.name.clients.oauthbearer.connections.max.reauth.ms': SESSION_MS,
      },
    );
    const node = stack.nodes[0]!;
    // A run that died may have left its broker running (on other ports) or its data.
    await stop(node.process, 20_000);
    fs.rmSync(node.data, { recursive: true, force: true });
    await startBroker(() => {}, stack);
    // What a service on MSK would set, but for the broker's address and CA.
    security = loadConfig({
      KAFKA_PROFILE: 'msk',
      KAFKA_BROKERS: stack.brokers,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: oauthBearerPki(stack).caPem,
      KAFKA_SASL_MECHANISM: 'aws-msk-iam',
      KAFKA_AWS_REGION: 'eu-west-1',
    }).kafka.security;
  });
  after(async () => {
    if (!stack) return;
    await stop(stack.nodes[0]!.process, 45_000);
    fs.rmSync(stack.nodes[0]!.data, { recursive: true, force: true });
  });

  const client = (tokenSource: TokenSource, clientSecurity = security): Kafka =>
    createKafka({ brokers: [stack.brokers], clientId: 'msk-iam-test', security: clientSecurity, tokenSource, retries: 0, logger: createLogger('msk-iam-test', 'silent') });

  it('is refused by the broker with an expired token, or without one', async () => {
    const now = Date.now();
    const expired: TokenSource = async () => ({ token: unsecuredJwt('order', now - 60_000, now - 30_000), expiresAt: now - 30_000 });
    const brokerSaid = (phrase: string) => fs.readFileSync(logPath(stack.nodes[0]!.process), 'utf8').split(phrase).length - 1;
    // What the broker logs when it closes each: the token exchange, or the SASL handshake, never finished.
    const attempts: [string, Kafka, string][] = [
      ['an expired token', client(expired), 'during SASL authentication'],
      ['no SASL', client(expired, { ssl: security.ssl! }), 'during SASL handshake'],
    ];
    for (const [what, kafka, phrase] of attempts) {
      const before = brokerSaid(phrase);
      const admin = kafka.admin({ retry: { retries: 0 } });
      const error = await failure(admin.connect().then(() => admin.listTopics()));
      await admin.disconnect().catch(() => {});
      // kafkajs does not read the error challenge Kafka's OAUTHBEARER server
      // answers a bad token with (RFC 7628), so the refusal shows as a
      // connection the broker closed.
      expect(described(error), what).to.match(/No brokers in the broker pool|Closed connection/);
      await eventually(() => expect(brokerSaid(phrase), what).to.be.above(before), 5_000);
    }
  });

  it('produces and consumes across re-authentications, signing only when the cached token nears expiry', async () => {
    const topic = `msk-iam-${Date.now()}`;
    const admin = await stackAdmin(stack, 'msk-iam-test');
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }

    // kafkajs' own debug lines tell connections, authentications and closes apart.
    const lines: { msg: string; broker?: string }[] = [];
    const capture = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const made: number[] = [];
    let provided = 0;
    const cache = cachedTokenSource(jwtSource(TOKEN_LIFE_MS, made));
    const counted: TokenSource = () => {
      provided += 1;
      return cache();
    };
    const kafka = createKafka({
      brokers: [stack.brokers],
      clientId: 'msk-iam-test',
      security,
      tokenSource: counted,
      reauthenticationThresholdMs: REAUTH_THRESHOLD_MS,
      logger: capture,
      logLevel: 'debug',
    });
    const count = (msg: string) => lines.filter((l) => l.msg === msg).length;

    const connectedAt = Date.now();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: `order-msk-iam-${Date.now()}` });
    const received: string[] = [];
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(String(message.value)) });

    const sent: string[] = [];
    const started = Date.now();
    let closedByBroker: number;
    try {
      while (Date.now() - started < TRAFFIC_MS) {
        const value = `m-${sent.length}`;
        await producer.send({ topic, messages: [{ key: 'k', value }] });
        sent.push(value);
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
      await eventually(() => expect(received).to.deep.equal(sent), 30_000);
    } finally {
      // Counted before our own disconnects close anything.
      closedByBroker = count('Kafka server has closed connection');
      await Promise.all([producer.disconnect(), consumer.disconnect()]);
    }
    const connections = count('Connecting');
    const authentications = count('SASL OAUTHBEARER authentication successful');
    const signedAt = made.map((at) => `${((at - connectedAt) / 1000).toFixed(1)}s`).join(', ');
    console.log(
      `      ${sent.length} messages; ${connections} connections, ${authentications} authentications (${authentications - connections} re-authentications), ${provided} tokens provided, ${made.length} signed (${signedAt} after connecting), ${closedByBroker} connections closed by the broker`,
    );

    expect(sent.length).to.be.at.least(30);
    // Every connection authenticated once, and the busy ones again before their 8 s sessions ended.
    expect(authentications - connections).to.be.at.least(3);
    expect(provided).to.equal(authentications);
    // The broker never had to drop a connection whose session ran out.
    expect(closedByBroker).to.equal(0);
    // A token for every 12 s or so, however many connections authenticated.
    expect(made.length).to.be.within(2, Math.ceil((Date.now() - connectedAt) / (TOKEN_LIFE_MS / 2)) + 1);
  });
});
