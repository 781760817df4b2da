// What makes the secure embedded stack secure, in one place: its certificates,
// a SCRAM-SHA-512 user per principal (made when the storage is formatted), the
// broker settings (TLS everywhere, SASL for clients, mutual TLS between broker
// and controller, the KRaft StandardAuthorizer denying what no ACL allows),
// and how a client of each principal connects.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stacks } from './layout.ts';
import { ensurePki, ensureServerCertificate, type Pki } from './pki.ts';
import { EmbeddedError } from './processes.ts';
import { readAccessFile } from '../../services/platform/topology/access.ts';

const secure = stacks.secure;
const node = secure.nodes[0]!;
const credentialsFile = path.join(secure.dir, 'credentials.json');

/** Every SCRAM user: the operator's admin, the registry, and one per service. */
export function principals(): string[] {
  return ['admin', 'registry', ...Object.keys(readAccessFile().services)];
}

export function securePki(): Pki {
  return ensurePki(path.join(secure.dir, 'pki'));
}

/** The SCRAM passwords, made with the storage; readable by this user only. */
export function credentials(): Record<string, string> {
  if (!fs.existsSync(credentialsFile)) {
    if (fs.existsSync(node.data)) {
      throw new EmbeddedError(`${node.data} exists without ${credentialsFile}; delete ${secure.dir} to make the secure broker afresh`);
    }
    fs.mkdirSync(secure.dir, { recursive: true, mode: 0o700 });
    const made = Object.fromEntries(principals().map((p) => [p, crypto.randomBytes(18).toString('base64url')]));
    fs.writeFileSync(credentialsFile, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600 });
  }
  return JSON.parse(fs.readFileSync(credentialsFile, 'utf8')) as Record<string, string>;
}

/** StorageTool arguments that create the SCRAM users when the storage is formatted. */
export function scramFormatArgs(): string[] {
  return Object.entries(credentials()).flatMap(([name, password]) => ['--add-scram', `SCRAM-SHA-512=[name=${name},password=${password}]`]);
}

export function secureServerProperties(): Record<string, string | number | boolean> {
  const pki = securePki();
  const { ports } = node;
  return {
    listeners: `CLIENTS://127.0.0.1:${ports.kafka},INTERNAL://127.0.0.1:${ports.internal},CONTROLLER://127.0.0.1:${ports.controller}`,
    'advertised.listeners': `CLIENTS://127.0.0.1:${ports.kafka},INTERNAL://127.0.0.1:${ports.internal}`,
    'listener.security.protocol.map': 'CLIENTS:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL',
    // The broker talks to itself (transaction markers) and to its controller
    // over mutual TLS, as the principal its certificate names.
    'inter.broker.listener.name': 'INTERNAL',
    'listener.name.internal.ssl.client.auth': 'required',
    'listener.name.controller.ssl.client.auth': 'required',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'listener.name.clients.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': pki.keystore,
    'ssl.keystore.password': pki.password,
    'ssl.key.password': pki.password,
    'ssl.truststore.type': 'PKCS12',
    'ssl.truststore.location': pki.truststore,
    'ssl.truststore.password': pki.password,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': false,
    'super.users': 'User:CN=broker;User:admin',
  };
}

/** The environment a client of one principal needs to reach the secure stack. */
export function secureClientEnv(principal: string): Record<string, string> {
  const password = credentials()[principal];
  if (!password) throw new EmbeddedError(`no SCRAM user '${principal}' in the secure stack (known: ${Object.keys(credentials()).join(', ')})`);
  return {
    KAFKA_BROKERS: secure.brokers,
    SCHEMA_REGISTRY_URL: secure.registryUrl,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: securePki().caPem,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: principal,
    KAFKA_SASL_PASSWORD: password,
  };
}

/**
 * The environment that makes the services serve HTTPS with a certificate the
 * secure stack's CA signed (for 127.0.0.1 and localhost), and trust that CA
 * when they (or the scripts) call one another.
 */
export function secureHttpEnv(): Record<string, string> {
  const pki = securePki();
  const { certFile, keyFile } = ensureServerCertificate(pki, 'services');
  return { HTTP_TLS_CERT_FILE: certFile, HTTP_TLS_KEY_FILE: keyFile, HTTP_TLS_CA_FILE: pki.caPem };
}

/**
 * Java options that connect the registry's Kafka clients as the registry
 * principal. The password goes in a file only this user can read (Quarkus'
 * quarkus.config.locations), not on a command line every user can see.
 */
export function secureRegistryOptions(): string[] {
  const pki = securePki();
  const password = credentials().registry!;
  const file = path.join(secure.dir, 'registry.properties');
  const settings = {
    // apicurio.kafka.common.* goes to its producer, consumer and admin alike;
    // its own apicurio.kafkasql.security.* only knows OAuth.
    'apicurio.kafka.common.security.protocol': 'SASL_SSL',
    'apicurio.kafka.common.sasl.mechanism': 'SCRAM-SHA-512',
    'apicurio.kafka.common.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="registry" password="${password}";`,
    'apicurio.kafka.common.ssl.truststore.type': 'PEM',
    'apicurio.kafka.common.ssl.truststore.location': pki.caPem,
  };
  fs.writeFileSync(
    file,
    `${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
    { mode: 0o600 },
  );
  return [`-Dquarkus.config.locations=${file}`];
}
