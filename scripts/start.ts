// npm start : the whole system on this machine. Brings up the embedded Kafka and
// schema registry unless KAFKA_BROKERS is set, applies the topology and
// registers the schemas.
import { runCli } from './cli.ts';
import { up } from './embedded/stack.ts';
import { loadConfig } from '../services/platform/config.ts';
import { connectAdmin } from '../services/platform/kafka/admin.ts';
import { createLogger } from '../services/platform/logger.ts';
import { createRegistryClient } from '../services/platform/schemas/codec.ts';
import { registerAll } from '../services/platform/schemas/register.ts';
import { applyTopology } from '../services/platform/topology/apply.ts';
import { readTopologyFile, resolveTopology } from '../services/platform/topology/declaration.ts';

runCli('start', async () => {
  const config = loadConfig();
  if (config.kafka.embedded) {
    const result = await up((line) => console.log(`[kafka] ${line}`));
    console.log(`[kafka] broker and registry ready in ${result.seconds.toFixed(1)}s`);
  }
  const admin = await connectAdmin({ brokers: config.kafka.brokers, clientId: 'start', security: config.kafka.security, logger: createLogger('start', 'error') });
  try {
    const declared = resolveTopology(readTopologyFile(), { profile: config.kafka.profile, prefix: config.topicPrefix });
    const { plan } = await applyTopology(admin, declared);
    if (plan.refusals.length) throw new Error(`topology refused: ${plan.refusals.join('; ')}`);
    console.log(`[topology] ${plan.actions.length} changed, ${plan.unchanged.length} unchanged`);
  } finally {
    await admin.disconnect();
  }
  const registrations = await registerAll(createRegistryClient(config.schemaRegistryUrl), config.schemaRegistryUrl, config.topicPrefix);
  console.log(`[schemas] ${registrations.length} subjects registered`);
  console.log(`Kafka: ${config.kafka.brokers.join(',')}  schema registry: ${config.schemaRegistryUrl}`);
});
