// npm run schemas : registers every schema of schemas/ in the registry at
// SCHEMA_REGISTRY_URL, under TOPIC_PREFIX. Fails, naming subject and field, on
// an incompatible change.
import { runCli } from './cli.ts';
import { loadConfig } from '../services/platform/config.ts';
import { createRegistryClient } from '../services/platform/schemas/codec.ts';
import { registerAll } from '../services/platform/schemas/register.ts';

runCli('schemas', async () => {
  const config = loadConfig();
  const registry = createRegistryClient(config.schemaRegistryUrl);
  const started = Date.now();
  const registrations = await registerAll(registry, config.schemaRegistryUrl, config.topicPrefix);
  const ids = new Set(registrations.map((r) => r.id));
  console.log(`schemas: ${registrations.length} subjects registered (${ids.size} distinct schema ids) at ${config.schemaRegistryUrl} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
});
