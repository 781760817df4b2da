// npm start : the whole system on this machine. Brings up the embedded Kafka and
// schema registry unless KAFKA_BROKERS is set, applies the topology, registers
// the schemas, and runs the three services as separate processes with their
// logs prefixed by service. When all are ready it prints where to find them.
// Ctrl-C (or SIGTERM) stops everything it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { prettyFactory } from 'pino-pretty';
import readline from 'node:readline';
import { runCli } from './cli.ts';
import { down, up } from './embedded/stack.ts';
import { loadConfig, type PlatformConfig } from '../services/platform/config.ts';
import { connectAdminFor } from '../services/platform/kafka/admin.ts';
import { createRegistryClient } from '../services/platform/schemas/codec.ts';
import { registerAll } from '../services/platform/schemas/register.ts';
import { applyTopology } from '../services/platform/topology/apply.ts';
import { readTopologyFile, resolveTopology } from '../services/platform/topology/declaration.ts';
import { namespacedDataDir } from '../services/platform/projections/store.ts';

const SERVICES = ['inventory', 'product', 'order'] as const;
type ServiceName = (typeof SERVICES)[number];
const STOP_WITHIN_MS = 30_000;

const say = (line: string) => console.log(`[start] ${line}`);

async function prepareKafka(config: PlatformConfig): Promise<void> {
  const admin = await connectAdminFor(config, 'start');
  try {
    const { plan } = await applyTopology(admin, resolveTopology(readTopologyFile(), { profile: config.kafka.profile, prefix: config.topicPrefix }));
    if (plan.refusals.length) throw new Error(`topology refused: ${plan.refusals.join('; ')}`);
    say(`topology applied (${config.kafka.profile}): ${plan.actions.length} changed, ${plan.unchanged.length} unchanged`);
  } finally {
    await admin.disconnect();
  }
  const registrations = await registerAll(createRegistryClient(config.schemaRegistryUrl), config.schemaRegistryUrl, config.topicPrefix);
  say(`schemas registered: ${registrations.length} subjects`);
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

async function waitReady(name: ServiceName, port: number, child: ChildProcess, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the ${name} service exited (code ${child.exitCode}) while starting`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(1000) });
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

runCli('start', async () => {
  const config = loadConfig();
  let startedStack = false;
  if (config.kafka.embedded) {
    const result = await up((line) => say(line));
    startedStack = result.startedBroker || result.startedRegistry;
    say(`Kafka and schema registry ready (${result.seconds.toFixed(1)}s)${startedStack ? '' : ', already running'}`);
  }
  await prepareKafka(config);

  const children = new Map<ServiceName, ChildProcess>();
  let stopping = false;
  const stopAll = async (code: number, reason?: string) => {
    if (stopping) return;
    stopping = true;
    if (reason) console.error(`[start] ${reason}`);
    say('stopping the services...');
    await Promise.all([...children.values()].map(stopChild));
    if (startedStack) await down((line) => say(line));
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  for (const name of SERVICES) {
    const child = spawn(process.execPath, ['--import', 'tsx', `services/${name}/main.ts`], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(name, child);
    relay(name, child);
    child.once('exit', (code, signal) => {
      if (!stopping) void stopAll(1, `the ${name} service stopped unexpectedly (${signal ?? `exit code ${code}`}); stopping everything`);
    });
  }
  try {
    await Promise.all(SERVICES.map((name) => waitReady(name, config.ports[name], children.get(name)!)));
  } catch (error) {
    await stopAll(1, (error as Error).message);
    return;
  }
  const url = (port: number) => `http://127.0.0.1:${port}`;
  console.log(`
  commerce-core is running${config.topicPrefix ? ` (topic prefix '${config.topicPrefix}')` : ''}

    product    ${url(config.ports.product)}/api/v1/products      (OpenAPI: ${url(config.ports.product)}/openapi.json)
    inventory  ${url(config.ports.inventory)}/api/v1/inventory     (OpenAPI: ${url(config.ports.inventory)}/openapi.json)
    order      ${url(config.ports.order)}/api/v1/orders        (OpenAPI: ${url(config.ports.order)}/openapi.json)

    health     /health/live, /health/ready    metrics  /metrics (each service)
    Kafka      ${config.kafka.brokers.join(',')}
    registry   ${config.schemaRegistryUrl}
    data       ${namespacedDataDir(config.dataDir, config.topicPrefix)}

  Try it: npm run demo        Stop: Ctrl-C
`);
});
