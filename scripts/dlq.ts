// npm run dlq -- list [<topic>]
//                 show <topic> [<partition>:<offset> ...]
//                 replay <topic> [<partition>:<offset> ...] [--force] [--dry-run]
//
// <topic> is a topic's base name (inventory.commands), its dead-letter topic
// (inventory.commands.dlq) or either with TOPIC_PREFIX. `list` without a topic
// counts every dead-letter topic. `replay` without positions re-drives every
// letter not yet replayed and remembers how far it got; with positions it
// re-drives exactly those. Letters that still cannot be decoded are left in
// place unless --force. Exit codes: 0 done, 1 failure, 2 usage.
import { parseArgs } from 'node:util';
import { runCli, UsageError } from './cli.ts';
import { loadConfig } from '../services/platform/config.ts';
import { createKafka } from '../services/platform/kafka/client.ts';
import { createLogger } from '../services/platform/logger.ts';
import { readDeadLetters, replayDeadLetters, summarize, type DeadLetter, type LetterPosition } from '../services/platform/processing/dead-letter-replay.ts';
import { createCodec, type Codec } from '../services/platform/schemas/codec.ts';
import { readTopologyFile } from '../services/platform/topology/declaration.ts';
import { type TopicDescriptor } from '../services/platform/topics.ts';
import { topicsFor } from '../services/topics.ts';

const USAGE = 'usage: npm run dlq -- list [<topic>] | show <topic> [<partition>:<offset> ...] | replay <topic> [<partition>:<offset> ...] [--force] [--dry-run]';

function topicsWithDeadLetters(prefix: string): TopicDescriptor[] {
  const declared = readTopologyFile().topics;
  return Object.values(topicsFor(prefix)).filter((t) => declared[t.baseName]?.deadLetters);
}

function resolveTopic(name: string, prefix: string): TopicDescriptor {
  const candidates = topicsWithDeadLetters(prefix);
  const bare = name.replace(/\.dlq$/, '');
  const topic = candidates.find((t) => t.baseName === bare || t.name === bare);
  if (!topic) throw new UsageError(`'${name}' has no dead-letter topic (have: ${candidates.map((t) => t.baseName).join(', ')})`);
  return topic;
}

function parsePositions(values: string[]): LetterPosition[] {
  return values.map((v) => {
    const match = /^(\d+):(\d+)$/.exec(v);
    if (!match) throw new UsageError(`'${v}' is not a <partition>:<offset> position; ${USAGE}`);
    return { partition: Number(match[1]), offset: BigInt(match[2]!) };
  });
}

function oneLine(l: DeadLetter): string {
  return `${l.partition}:${l.offset}  ${l.time}  from ${l.source.topic}[${l.source.partition}]@${l.source.offset}  by ${l.consumer}  key=${l.key ?? '(none)'}  ${l.reason}`;
}

async function describe(codec: Codec, topic: TopicDescriptor, l: DeadLetter): Promise<string> {
  const headers = Object.entries(l.headers).map(([k, v]) => `    ${k}: ${Array.isArray(v) ? v.map(String).join(', ') : String(v)}`);
  let body: string;
  try {
    const { message, schemaId } = await codec.decode(topic, l.value);
    body = `  value (schema id ${schemaId}): ${JSON.stringify(message, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2).replace(/\n/g, '\n  ')}`;
  } catch (error) {
    const bytes = l.value ? `${l.value.subarray(0, 64).toString('hex')}${l.value.length > 64 ? '…' : ''} (${l.value.length} bytes)` : '(null)';
    body = `  value: cannot be decoded (${(error as Error).message})\n  bytes: ${bytes}`;
  }
  return [
    `${topic.name}.dlq ${l.partition}:${l.offset}`,
    `  reason: ${l.reason}`,
    `  from: ${l.source.topic}[${l.source.partition}]@${l.source.offset}, by ${l.consumer}, at ${l.time}`,
    `  key: ${l.key ?? '(none)'}`,
    '  headers:',
    ...headers,
    body,
  ].join('\n');
}

runCli('dlq', async () => {
  const { values: flags, positionals } = (() => {
    try {
      return parseArgs({ options: { force: { type: 'boolean' }, 'dry-run': { type: 'boolean' } }, allowPositionals: true });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}; ${USAGE}`);
    }
  })();
  const [command, topicName, ...rest] = positionals;
  if (!command || !['list', 'show', 'replay'].includes(command)) throw new UsageError(USAGE);
  if (command !== 'list' && !topicName) throw new UsageError(`${command} needs a topic; ${USAGE}`);
  if (command === 'list' && rest.length) throw new UsageError(USAGE);
  if (command !== 'replay' && (flags.force || flags['dry-run'])) throw new UsageError(`--force and --dry-run belong to replay; ${USAGE}`);

  const config = loadConfig();
  const prefix = config.topicPrefix;
  const topic = topicName ? resolveTopic(topicName, prefix) : undefined;
  const positions = parsePositions(rest);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'dlq', security: config.kafka.security, logger: createLogger('dlq', 'error') });

  if (command === 'list') {
    if (!topic) {
      for (const s of await Promise.all(topicsWithDeadLetters(prefix).map((t) => summarize(kafka, t, prefix)))) {
        console.log(`${s.topic.padEnd(40)} ${String(s.total).padStart(7)} letters  ${String(s.pending).padStart(7)} not replayed`);
      }
      return;
    }
    const letters = await readDeadLetters(kafka, topic, prefix, 'all');
    for (const l of letters) console.log(oneLine(l));
    console.log(`${letters.length} letter(s) in ${topic.name}.dlq`);
    return;
  }

  const codec = await createCodec({ registryUrl: config.schemaRegistryUrl, writes: [] });
  if (command === 'show') {
    const letters = await readDeadLetters(kafka, topic!, prefix, positions.length ? positions : 'all');
    for (const l of letters) console.log(`${await describe(codec, topic!, l)}\n`);
    console.log(`${letters.length} letter(s)`);
    return;
  }

  const result = await replayDeadLetters({
    kafka,
    codec,
    topic: topic!,
    topicPrefix: prefix,
    ...(positions.length ? { only: positions } : {}),
    force: flags.force === true,
    dryRun: flags['dry-run'] === true,
  });
  const verb = flags['dry-run'] ? 'would replay' : 'replayed';
  for (const l of result.replayed) console.log(`${verb} ${l.partition}:${l.offset} -> ${topic!.name} (key ${l.key ?? '(none)'})`);
  for (const s of result.skipped) console.log(`left ${s.letter.partition}:${s.letter.offset}: ${s.why} (fix the cause, or --force)`);
  console.log(`${verb} ${result.replayed.length} letter(s) into ${topic!.name}; left ${result.skipped.length}`);
});
