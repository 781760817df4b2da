// npm run bench -- rebuild
//
// Events per second replayed into each service's projections (a full rebuild
// from offset 0, every projection of the service in one pass), for a history of
// at least a million events, with each run's peak memory; and in the same run,
// as the baseline, a raw kafkajs consumer reading the same topics with decoding.
// Each runs in a process of its own.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKafka } from '../services/platform/kafka/client.ts';
import { createLogger } from '../services/platform/logger.ts';
import { createCodec } from '../services/platform/schemas/codec.ts';
import { topicsFor } from '../services/topics.ts';
import { generateHistory } from './rebuild/generate.ts';
import { freshNamespace, record } from './support.ts';

const INVENTORY_EVENTS = Number(process.env.BENCH_INVENTORY_EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

// Both contenders run with the young generation the rebuild script asks for
// (see package.json), so neither gains from the flag alone.
const NODE_FLAGS = ['--max-semi-space-size=32'];

function child(args: string[], env: Record<string, string>) {
  const out = execFileSync(process.execPath, [...NODE_FLAGS, '--import', 'tsx', ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, number & string[]>;
}

export async function rebuildBenchmark(): Promise<void> {
  const { prefix, config } = await freshNamespace('rebuild');
  const topics = topicsFor(prefix);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench', logger: createLogger('bench', 'error') });
  const codec = await createCodec({ registryUrl: config.schemaRegistryUrl, writes: [topics.productEvents, topics.inventoryEvents, topics.orderEvents] });
  console.log(`[rebuild] writing a history of ${INVENTORY_EVENTS} inventory events plus their catalogue and orders`);
  const t0 = Date.now();
  const written = await generateHistory(kafka, codec, topics, INVENTORY_EVENTS);
  console.log(`[rebuild] ${written} events written in ${((Date.now() - t0) / 1000).toFixed(0)}s`);

  const services = { inventory: [topics.inventoryEvents, topics.productEvents], product: [topics.productEvents, topics.inventoryEvents], order: [topics.orderEvents, topics.productEvents] };
  const rows = [];
  for (const [service, read] of Object.entries(services)) {
    // Alternating runs, best of each: neither contender always reads what the
    // other just brought into the caches, and a noisy moment spoils only one run.
    const runs: { rebuild: ReturnType<typeof child>[]; baseline: ReturnType<typeof child>[] } = { rebuild: [], baseline: [] };
    for (let round = 0; round < ROUNDS; round++) {
      console.log(`[rebuild] ${service} (${round + 1}/${ROUNDS}): raw kafkajs consume of the same topics, decoding included`);
      runs.baseline.push(child(['bench/baseline/raw-consume.ts', config.kafka.brokers.join(','), config.schemaRegistryUrl, ...read.map((t) => t.name)], {}));
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-rebuild-${service}-`));
      console.log(`[rebuild] ${service} (${round + 1}/${ROUNDS}): rebuilding every projection from the log`);
      runs.rebuild.push(child(['bench/rebuild/run-rebuild.ts', service], { TOPIC_PREFIX: prefix, DATA_DIR: dataDir, LOG_LEVEL: 'error' }));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    const best = (list: ReturnType<typeof child>[]) => list.reduce((a, b) => (Number(b.eventsPerSecond) > Number(a.eventsPerSecond) ? b : a));
    const rebuild = best(runs.rebuild);
    const baseline = best(runs.baseline);
    rows.push({
      service,
      projections: rebuild.projections,
      events: rebuild.events,
      rebuild: { eventsPerSecond: rebuild.eventsPerSecond, seconds: rebuild.seconds, peakRssMiB: rebuild.peakRssMiB, runs: runs.rebuild.map((r) => r.eventsPerSecond) },
      baseline: { eventsPerSecond: baseline.eventsPerSecond, seconds: baseline.seconds, peakRssMiB: baseline.peakRssMiB, runs: runs.baseline.map((r) => r.eventsPerSecond) },
      ratio: Number((Number(rebuild.eventsPerSecond) / Number(baseline.eventsPerSecond)).toFixed(2)),
    });
  }
  const summary = `
## Rebuild benchmark (\`npm run bench -- rebuild\`)

A history of ${written} events (${INVENTORY_EVENTS} inventory events, their catalogue and orders). Each service's projections rebuilt from offset 0 in one pass, against a raw kafkajs consumer reading the same topics with Avro decoding, each in its own process; ${ROUNDS} alternating runs of each, best of each.

| service | projections | events replayed | rebuild events/s | peak memory | raw consume events/s | peak memory | ratio |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.map((r) => `| ${r.service} | ${r.projections} | ${r.events} | ${r.rebuild.eventsPerSecond} | ${r.rebuild.peakRssMiB} MiB | ${r.baseline.eventsPerSecond} | ${r.baseline.peakRssMiB} MiB | **${r.ratio}** |`).join('\n')}

Target: at least 0.7 of the baseline.
`;
  const file = record('rebuild', { history: { events: written, inventoryEvents: INVENTORY_EVENTS }, services: rows, target: 0.7 }, summary);
  console.log(summary);
  console.log(`[rebuild] recorded ${file}`);
}
