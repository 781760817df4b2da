// One service's read models rebuilt from the log, in a process of its own so
// its peak memory is its own. Prints one JSON line: what it replayed and how fast.
import { inventoryReadModels, inventoryReadModelsSource } from '../../services/inventory/read-models.ts';
import { orderReadModels, orderReadModelsSource } from '../../services/order/read-models.ts';
import { loadConfig } from '../../services/platform/config.ts';
import { createKafka } from '../../services/platform/kafka/client.ts';
import { createLogger } from '../../services/platform/logger.ts';
import { planRebuild, rebuildProjections } from '../../services/platform/projections/rebuild.ts';
import { createCodec } from '../../services/platform/schemas/codec.ts';
import { topicsFor } from '../../services/topics.ts';
import { productReadModels, productReadModelsSource } from '../../services/product/read-models.ts';

const service = process.argv[2]!;
const { readModels, source } = {
  inventory: { readModels: inventoryReadModels, source: inventoryReadModelsSource },
  product: { readModels: productReadModels, source: productReadModelsSource },
  order: { readModels: orderReadModels, source: orderReadModelsSource },
}[service]!;
const config = loadConfig();
const projections = readModels(topicsFor(config.topicPrefix));
const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench-rebuild', logger: createLogger('bench', 'error') });
const codec = await createCodec({ registryUrl: config.schemaRegistryUrl, writes: [] });
const plan = await planRebuild(kafka, projections);
const events = [...plan.topics.values()].reduce((n, t) => n + t.partitions.reduce((m, p) => m + Number(p.high - p.low), 0), 0);
const started = process.hrtime.bigint();
await rebuildProjections({ kafka, codec, service, topicPrefix: config.topicPrefix, registryUrl: config.schemaRegistryUrl, dataDir: config.dataDir, projections, source });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  JSON.stringify({
    service,
    projections: projections.length,
    topics: [...plan.topics.keys()],
    events,
    seconds,
    eventsPerSecond: Math.round(events / seconds),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
process.exit(0);
