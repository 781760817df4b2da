// The oauthbearer test stack: one node whose client listener takes
// SASL/OAUTHBEARER over TLS, as MSK's IAM listener does. Without a validator
// callback handler configured, Kafka checks tokens with its unsecured one
// (OAuthBearerUnsecuredValidatorCallbackHandler): an unsigned JWT whose `sub`
// is the principal and whose `exp` bounds the session. AWS's signed tokens are
// no JWTs, so tests hand the client unsigned ones instead (unsecuredJwt) to
// prove the wiring, the token cache and re-authentication without AWS. The
// broker reaches itself and its controller over plaintext listeners, which the
// readiness probe uses too, so that starting the broker needs no token.
import path from 'node:path';
import type { KafkaNode, Stack } from './layout.ts';
import { ensurePki, type Pki } from './pki.ts';

export function oauthBearerPki(stack: Stack): Pki {
  return ensurePki(path.join(stack.dir, 'pki'));
}

export function oauthBearerServerProperties(stack: Stack): Record<string, string | number | boolean> {
  const { ports } = stack.nodes[0]!;
  const pki = oauthBearerPki(stack);
  return {
    listeners: `CLIENTS://127.0.0.1:${ports.kafka},INTERNAL://127.0.0.1:${ports.internal},CONTROLLER://127.0.0.1:${ports.controller}`,
    'advertised.listeners': `CLIENTS://127.0.0.1:${ports.kafka},INTERNAL://127.0.0.1:${ports.internal}`,
    'listener.security.protocol.map': 'CLIENTS:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'INTERNAL',
    'sasl.enabled.mechanisms': 'OAUTHBEARER',
    // The login module's claim is the broker's own (unused) login; clients' tokens go to the default unsecured validator.
    'listener.name.clients.oauthbearer.sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': pki.keystore,
    'ssl.keystore.password': pki.password,
    'ssl.key.password': pki.password,
  };
}

/** Where the readiness probe and a test's admin reach the broker without a token. */
export function oauthBearerInternalBrokers(nodes: KafkaNode[]): string[] {
  return nodes.map((n) => `127.0.0.1:${n.ports.internal}`);
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned JWT (alg none, empty signature) that Kafka's unsecured validator accepts until expiresAt. */
export function unsecuredJwt(subject: string, issuedAt: number, expiresAt: number): string {
  const claims = { sub: subject, iat: Math.floor(issuedAt / 1000), exp: Math.floor(expiresAt / 1000) };
  return `${base64url({ alg: 'none' })}.${base64url(claims)}.`;
}
