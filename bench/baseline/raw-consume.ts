// The baseline for the rebuild benchmark: a raw kafkajs consumer reading the
// same topics from the beginning, decoding every message with the registry
// client, and nothing else. Prints one JSON line.
import crypto from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';

const [brokers, registryUrl, ...topics] = process.argv.slice(2) as [string, string, ...string[]];
const kafka = new Kafka({ clientId: 'bench-baseline', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const registry = new SchemaRegistry({ host: registryUrl });
const admin = kafka.admin();
await admin.connect();
let events = 0;
for (const topic of topics) for (const o of await admin.fetchTopicOffsets(topic)) events += Number(o.high) - Number(o.low);
await admin.disconnect();

const started = process.hrtime.bigint();
const consumer = kafka.consumer({ groupId: `bench-baseline-${crypto.randomUUID()}`, maxWaitTimeInMs: 50, maxBytesPerPartition: 4 * 1024 * 1024 });
await consumer.connect();
await consumer.subscribe({ topics, fromBeginning: true });
let seen = 0;
let done!: () => void;
const finished = new Promise<void>((resolve) => (done = resolve));
await consumer.run({
  eachBatch: async ({ batch }) => {
    for (const message of batch.messages) await registry.decode(message.value!);
    seen += batch.messages.length;
    if (seen >= events) done();
  },
});
await finished;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await consumer.disconnect();
console.log(JSON.stringify({ topics, events, seconds, eventsPerSecond: Math.round(events / seconds), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
process.exit(0);
