// Turns one service's events into another aggregate's commands, exactly once:
// consume, translate (re-keying to the target aggregate), produce and commit
// offsets in one transaction per chunk (see exactly-once-loop.ts). Poison, and
// an event whose translation keeps failing after bounded retries, goes to the
// source topic's dead-letter topic in the same transaction.
import type { Kafka, KafkaMessage } from 'kafkajs';
import { causedBy, fromHeaders, type MessageMetadata } from '../headers.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Health } from '../runtime/health.ts';
import type { Codec } from '../schemas/codec.ts';
import { decodeOrPoison } from '../schemas/decode-or-poison.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';
import type { Outbound } from './command-processor.ts';
import { deadLetterRecord } from './dead-letters.ts';
import { outboundCommand } from './outbound-command.ts';
import { createExactlyOnceLoop, type ExactlyOnceLoop, type OutboundRecord } from './exactly-once-loop.ts';
import { createRetryBudget } from './retry-budget.ts';

export interface TranslatorOptions<M extends RecordMap> {
  kafka: Kafka;
  codec: Codec;
  name: string;
  source: string;
  groupId: string;
  from: TopicDescriptor<M>;
  translate(event: TopicMessage<M>, meta: MessageMetadata): Outbound[] | Promise<Outbound[]>;
  logger: Logger;
  /** Attempts at an event whose translation throws before it is dead-lettered. */
  maxAttempts?: number;
  metrics?: Metrics;
  health?: Health;
}

export function createTranslator<M extends RecordMap>(options: TranslatorOptions<M>): ExactlyOnceLoop {
  const { codec, from, logger } = options;
  const budget = createRetryBudget(options.maxAttempts ?? 5);

  async function translate(event: TopicMessage<M>, meta: MessageMetadata, partition: number, message: KafkaMessage): Promise<Outbound[] | undefined> {
    const key = `${partition}|${message.offset}`;
    try {
      const outbound = await options.translate(event, meta);
      budget.settle(key);
      return outbound;
    } catch (error) {
      const reason = (error as Error).message;
      if (!budget.exhausted(key)) {
        logger.warn({ topic: from.name, partition, offset: message.offset, attempt: budget.attempts(key), reason, correlationId: meta.correlationId }, 'translation failed; retrying');
        throw error; // the chunk aborts and is re-read after kafkajs' backoff
      }
      budget.settle(key);
      return undefined;
    }
  }

  async function handle(partition: number, messages: KafkaMessage[]) {
    const records: OutboundRecord[] = [];
    const translated: { correlationId: string; event: string; commands: string[] }[] = [];
    for (const message of messages) {
      const decoded = await decodeOrPoison(codec, from, message.value);
      if (!decoded.ok) {
        records.push(deadLetterRecord({ topic: from.name, partition, message }, decoded.poison, options.groupId));
        logger.warn({ topic: from.name, partition, offset: message.offset, reason: decoded.poison }, 'event dead-lettered');
        continue;
      }
      const event = decoded.message;
      const meta = fromHeaders(message.headers, Number(message.timestamp));
      const outbound = await translate(event, meta, partition, message);
      if (!outbound) {
        const reason = `translation kept failing after ${options.maxAttempts ?? 5} attempts`;
        records.push(deadLetterRecord({ topic: from.name, partition, message }, reason, options.groupId));
        logger.error({ topic: from.name, partition, offset: message.offset, reason, correlationId: meta.correlationId }, 'event dead-lettered');
        continue;
      }
      if (outbound.length) translated.push({ correlationId: meta.correlationId, event: event.type, commands: outbound.map((o) => o.message.type) });
      for (const { topic, message: command } of outbound) {
        records.push(outboundCommand(codec, topic, command, { source: options.source, time: meta.time, ...causedBy(meta) }));
      }
    }
    return {
      records,
      committed: () => {
        for (const t of translated) logger.info(t, 'event translated');
      },
      aborted: () => {},
    };
  }

  return createExactlyOnceLoop({
    kafka: options.kafka,
    groupId: options.groupId,
    topic: from.name,
    logger,
    concurrency: from.partitions,
    handlerName: `translator:${options.name}`,
    metrics: options.metrics,
    health: options.health,
    handler: { prepare: async () => {}, handle, release: () => {} },
  });
}
