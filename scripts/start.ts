// npm start : the whole system on this machine. Brings up the embedded Kafka and
// schema registry unless KAFKA_BROKERS is set, applies the topology, registers
// the schemas, and runs the three services as separate processes with their
// logs prefixed by service. When all are ready it prints where to find them.
// Ctrl-C (or SIGTERM) stops everything it started. `npm start -- --secure` runs
// it on the embedded secure stack (TLS, a SCRAM principal per service, ACLs),
// and the services serve HTTPS with a certificate the same local CA signed.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { prettyFactory } from 'pino-pretty';
import readline from 'node:readline';
import { runCli, UsageError } from './cli.ts';
import { secureClientEnv, secureHttpEnv } from './embedded/secure.ts';
import { down, up } from './embedded/stack.ts';
import { ensureSigningKey, tokenFor } from './local-auth.ts';
import { loadConfig, type PlatformConfig } from '../services/platform/config.ts';
import { namespacedDataDir } from '../services/platform/projections/store.ts';
import { IDENTITIES } from '../services/access.ts';
import { describeAcls, prepareNamespace } from '../services/platform/topology/prepare.ts';
import { serviceEndpoints, type ServiceEndpoints } from './service-ports.ts';

const SERVICES = ['inventory', 'product', 'order'] as const;
type ServiceName = (typeof SERVICES)[number];
const STOP_WITHIN_MS = 30_000;

const say = (line: string) => console.log(`[start] ${line}`);

async function prepareKafka(config: PlatformConfig): Promise<void> {
  const { plan, acls, subjects } = await prepareNamespace(config, { clientId: 'start' });
  say(`topology applied (${config.kafka.profile}): ${plan.actions.length} changed, ${plan.unchanged.length} unchanged; ${describeAcls(acls)}`);
  say(`schemas registered: ${subjects} subjects`);
}

interface LocalAuth {
  /** Environment every service gets (the verification key), and the product service's token for inventory. */
  env: Record<string, string>;
  productEnv: Record<string, string>;
  tokens: [string, string][];
}

/**
 * Unless tokens come from elsewhere (AUTH_PUBLIC_KEY_FILE or AUTH_JWKS_URL set,
 * or HTTP_AUTH=off), a local signing key verifies them, and tokens are minted
 * for each identity: printed to try with, and one for the product service's
 * real-time stock calls.
 */
async function localAuth(config: PlatformConfig): Promise<LocalAuth | undefined> {
  if (config.http.auth.mode === 'off' || process.env.AUTH_PUBLIC_KEY_FILE || process.env.AUTH_JWKS_URL) return undefined;
  const key = ensureSigningKey();
  if (key.created) say(`made a local token signing key: ${key.privateKeyFile}`);
  const tokens: [string, string][] = [];
  for (const identity of Object.keys(IDENTITIES)) tokens.push([identity, await tokenFor(identity)]);
  const productToken = process.env.INVENTORY_API_TOKEN ?? (await tokenFor('product-service', { ttlSeconds: 30 * 86400 }));
  return { env: { AUTH_PUBLIC_KEY_FILE: key.publicKeyFile }, productEnv: { INVENTORY_API_TOKEN: productToken }, tokens };
}

/**
 * A service's own Kafka principal, when <SERVICE>_KAFKA_SASL_USERNAME and
 * _PASSWORD are set (MSK, the compose cluster); otherwise it connects as
 * KAFKA_SASL_USERNAME, the principal npm start prepares the topology as.
 */
function ownCredentials(name: ServiceName): Record<string, string> {
  const username = process.env[`${name.toUpperCase()}_KAFKA_SASL_USERNAME`];
  const password = process.env[`${name.toUpperCase()}_KAFKA_SASL_PASSWORD`];
  return username && password ? { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } : {};
}

/** Each line of a service's output, prefixed with its name (and made readable unless LOG_FORMAT=json). */
function relay(name: ServiceName, child: ChildProcess): void {
  const pretty = process.env.LOG_FORMAT === 'json' ? undefined : prettyFactory({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service,name' });
  const prefix = `[${name.padEnd(9)}]`;
  for (const stream of [child.stdout!, child.stderr!]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      const text = pretty && line.startsWith('{') ? pretty(line).trimEnd() : line;
      for (const part of text.split('\n')) console.log(`${prefix} ${part}`);
    });
  }
}

async function waitReady(name: ServiceName, endpoints: ServiceEndpoints, child: ChildProcess, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the ${name} service exited (code ${child.exitCode}) while starting`);
    try {
      const res = await endpoints.fetch(`${endpoints.base[name]}/health/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the ${name} service was not ready within ${timeoutMs / 1000}s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_WITHIN_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function tokenHelp(auth: LocalAuth, productUrl: string, curl: string): string {
  const lines = auth.tokens.map(([identity, token]) => `    ${identity.padEnd(16)} ${IDENTITIES[identity]!.what}\n      ${token}`);
  return `
  Bearer tokens to try with (valid 12 h; a fresh one: npm run token -- <identity>):
${lines.join('\n')}

    ${curl} -H "Authorization: Bearer $(npm run -s token -- storefront)" ${productUrl}/api/v1/products
`;
}

runCli('start', async () => {
  const args = process.argv.slice(2);
  if (args.some((a) => a !== '--secure')) throw new UsageError('usage: npm start [-- --secure]');
  // --secure: the embedded stack with TLS, SCRAM users and ACLs; the topology is
  // applied as its admin, and each service connects as its own principal.
  const secure = args.includes('--secure');
  if (secure && process.env.KAFKA_BROKERS) throw new UsageError('--secure runs the embedded secure stack; with KAFKA_BROKERS set, configure KAFKA_SSL_*/KAFKA_SASL_* instead');
  // HTTPS too, unless the caller serves its own certificate (HTTP_TLS_* set).
  const secureHttp = secure && !process.env.HTTP_TLS_CERT_FILE ? secureHttpEnv() : {};
  const config = loadConfig(secure ? { ...process.env, ...secureClientEnv('admin'), ...secureHttp } : process.env);
  const endpoints = serviceEndpoints(config);
  // Inventory's own scheme, unless INVENTORY_URL says where it is.
  const inventoryUrl = config.http.tls && !process.env.INVENTORY_URL ? { INVENTORY_URL: endpoints.base.inventory } : {};
  const serviceEnv = (name: ServiceName) => ({ ...(secure ? secureClientEnv(name) : ownCredentials(name)), ...secureHttp, ...(name === 'product' ? inventoryUrl : {}) });
  let startedStack = false;
  if (config.kafka.embedded || secure) {
    const result = await up((line) => say(line), secure ? 'secure' : 'plain');
    startedStack = result.startedBroker || result.startedRegistry;
    say(`Kafka and schema registry${secure ? ' (secure)' : ''} ready (${result.seconds.toFixed(1)}s)${startedStack ? '' : ', already running'}`);
  }
  await prepareKafka(config);
  const auth = await localAuth(config);

  const children = new Map<ServiceName, ChildProcess>();
  let stopping = false;
  const stopAll = async (code: number, reason?: string) => {
    if (stopping) return;
    stopping = true;
    if (reason) console.error(`[start] ${reason}`);
    say('stopping the services...');
    await Promise.all([...children.values()].map(stopChild));
    if (startedStack) await down((line) => say(line), secure ? 'secure' : 'plain');
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  for (const name of SERVICES) {
    const env = { ...process.env, ...serviceEnv(name), ...auth?.env, ...(name === 'product' ? auth?.productEnv : {}) };
    const child = spawn(process.execPath, ['--import', 'tsx', `services/${name}/main.ts`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(name, child);
    relay(name, child);
    child.once('exit', (code, signal) => {
      if (!stopping) void stopAll(1, `the ${name} service stopped unexpectedly (${signal ?? `exit code ${code}`}); stopping everything`);
    });
  }
  try {
    await Promise.all(SERVICES.map((name) => waitReady(name, endpoints, children.get(name)!)));
  } catch (error) {
    await stopAll(1, (error as Error).message);
    return;
  }
  const url = (name: ServiceName) => endpoints.base[name];
  // curl trusts only the CA that signed the services' certificate, as they do one another.
  const curl = config.http.tls && config.http.peerCaFile ? `curl --cacert ${path.relative(process.cwd(), config.http.peerCaFile)}` : 'curl';
  console.log(`
  commerce-core is running${config.topicPrefix ? ` (topic prefix '${config.topicPrefix}')` : ''}

    product    ${url('product')}/api/v1/products      (OpenAPI: ${url('product')}/openapi.json)
    inventory  ${url('inventory')}/api/v1/inventory     (OpenAPI: ${url('inventory')}/openapi.json)
    order      ${url('order')}/api/v1/orders        (OpenAPI: ${url('order')}/openapi.json)

    health     /health/live, /health/ready    metrics  /metrics (each service)
    Kafka      ${config.kafka.brokers.join(',')}${secure ? ' (SASL_SSL; each service as its own SCRAM principal, ACLs from topology/access.yaml)' : ''}
    registry   ${config.schemaRegistryUrl}
    data       ${namespacedDataDir(config.dataDir, config.topicPrefix)}${config.http.tls ? `\n    HTTPS      certificate ${config.http.tls.certFile}${config.http.peerCaFile ? `, signed by the CA in ${config.http.peerCaFile}` : ''}` : ''}

${auth ? tokenHelp(auth, url('product'), curl) : `    HTTP auth  ${config.http.auth.mode === 'off' ? 'off (HTTP_AUTH=off): every endpoint is open' : 'bearer tokens from your identity provider'}\n`}
  Try it: npm run demo${secure ? ' -- --secure' : ''}        Stop: Ctrl-C
`);
});
