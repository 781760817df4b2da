// npm run rebuild -- <service> [<projection>] [--verify] [--dry-run]
//
// Rebuilds a service's read models (or one of them) from the log into new
// files, with a progress bar per projection, then swaps them in atomically;
// a running service switches without a restart. --verify compares each rebuilt
// model with the live one row by row and reports every difference (exit code 3
// if there is any). --dry-run only says what would be read.
// Uses DATA_DIR, TOPIC_PREFIX and the broker and registry settings of the service.
import cliProgress from 'cli-progress';
import { runCli, UsageError } from './cli.ts';
import { inventoryReadModels, inventoryReadModelsSource } from '../services/inventory/read-models.ts';
import { orderReadModels, orderReadModelsSource } from '../services/order/read-models.ts';
import { loadConfig } from '../services/platform/config.ts';
import { createKafka } from '../services/platform/kafka/client.ts';
import { createLogger } from '../services/platform/logger.ts';
import { planRebuild, rebuildProjections } from '../services/platform/projections/rebuild.ts';
import type { Projection } from '../services/platform/projections/projection.ts';
import { createCodec } from '../services/platform/schemas/codec.ts';
import { topicsFor, type Topics } from '../services/topics.ts';
import type { ReadModelSource } from '../services/platform/projections/worker-protocol.ts';
import { productReadModels, productReadModelsSource } from '../services/product/read-models.ts';

const SERVICES: Record<string, { readModels: (topics: Topics) => Projection[]; source: ReadModelSource }> = {
  inventory: { readModels: inventoryReadModels, source: inventoryReadModelsSource },
  product: { readModels: productReadModels, source: productReadModelsSource },
  order: { readModels: orderReadModels, source: orderReadModelsSource },
};
const USAGE = 'usage: npm run rebuild -- <service> [<projection>] [--verify] [--dry-run]';

runCli('rebuild', async () => {
  const args = process.argv.slice(2);
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const [service, only, ...extra] = args.filter((a) => !a.startsWith('--'));
  const unknownFlags = [...flags].filter((f) => f !== '--verify' && f !== '--dry-run');
  if (!service || extra.length || unknownFlags.length) throw new UsageError(`${unknownFlags.length ? `unknown option ${unknownFlags.join(' ')}; ` : ''}${USAGE}`);
  const definition = SERVICES[service];
  if (!definition) throw new UsageError(`unknown service '${service}' (have: ${Object.keys(SERVICES).join(', ')}); ${USAGE}`);
  const config = loadConfig();
  const all = definition.readModels(topicsFor(config.topicPrefix));
  const projections = only ? all.filter((p) => p.name === only) : all;
  if (projections.length === 0) throw new UsageError(`${service} has no projection '${only}' (have: ${all.map((p) => p.name).join(', ')})`);

  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'rebuild', security: config.kafka.security, logger: createLogger('rebuild', 'error') });
  // Refuses a log that lost its beginning before anything is drawn or touched.
  const plan = await planRebuild(kafka, projections);
  if (flags.has('--dry-run')) {
    for (const { projection, events } of plan.projections) {
      console.log(`would rebuild ${service}/${projection.name} (version ${projection.version}) from ${projection.topics.map((t) => t.name).join(', ')}: ${events} events`);
    }
    console.log(`dry run: nothing was changed in ${config.dataDir}`);
    return;
  }

  const codec = await createCodec({ registryUrl: config.schemaRegistryUrl, writes: [] });
  const bars = new cliProgress.MultiBar(
    {
      format: '{projection} |{bar}| {percentage}% {value}/{total} offsets | {speed}/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      stopOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  const barFor = new Map(plan.projections.map(({ projection, events }) => [projection.name, bars.create(Math.max(Number(events), 1), 0, { projection: projection.name.padEnd(20), speed: '0' })]));
  let results;
  try {
    results = await rebuildProjections({
      kafka,
      codec,
      service,
      topicPrefix: config.topicPrefix,
      registryUrl: config.schemaRegistryUrl,
      dataDir: config.dataDir,
      projections,
      source: definition.source,
      verify: flags.has('--verify'),
      onProgress: ({ projection, done, total }) => {
        const seconds = Math.max((Date.now() - started) / 1000, 0.001);
        barFor.get(projection)!.setTotal(Math.max(total, 1));
        barFor.get(projection)!.update(done, { speed: Math.round(done / seconds).toLocaleString('en') });
      },
    });
  } finally {
    for (const bar of barFor.values()) bar.update(bar.getTotal());
    bars.stop();
  }

  let differences = 0;
  for (const r of results) {
    const rate = r.seconds > 0 ? Math.round(r.events / r.seconds) : r.events;
    console.log(`rebuilt ${service}/${r.projection}: ${r.events} events in ${r.seconds.toFixed(1)}s (${rate} events/s) -> ${r.file}`);
    if (r.verifySkipped) console.log(`  verify skipped: ${r.verifySkipped}`);
    if (r.comparison) {
      for (const t of r.comparison.tables) {
        console.log(`  ${t.table}: live ${t.liveRows} rows (${t.liveChecksum}), rebuilt ${t.rebuiltRows} rows (${t.rebuiltChecksum})${t.liveChecksum === t.rebuiltChecksum ? '' : '  DIFFERENT'}`);
      }
      for (const d of r.comparison.differences) {
        console.log(`  difference in ${d.table} at ${d.key}: live ${d.live ? JSON.stringify(d.live) : '(missing)'}, rebuilt ${d.rebuilt ? JSON.stringify(d.rebuilt) : '(missing)'}`);
      }
      console.log(`  verify: ${r.comparison.differences.length === 0 ? 'no differences' : `${r.comparison.differences.length} difference(s)`}`);
      differences += r.comparison.differences.length;
    }
  }
  console.log(`swapped in: ${results.map((r) => r.projection).join(', ')} (a running ${service} service switches over without a restart)`);
  if (differences > 0) process.exitCode = 3;
});
