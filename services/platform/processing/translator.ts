// Turns one service's events into another aggregate's commands, exactly once:
// consume, translate (re-keying to the target aggregate), produce and commit
// offsets in one transaction per chunk (see exactly-once-loop.ts). Poison goes
// to the source topic's dead-letter topic in the same transaction.
import type { Kafka, KafkaMessage } from 'kafkajs';
import { fromHeaders, newId, toHeaders, type MessageMetadata } from '../headers.ts';
import type { Logger } from '../logger.ts';
import { DecodeError, type Codec } from '../schemas/codec.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';
import type { Outbound } from './command-processor.ts';
import { deadLetterRecord } from './dead-letters.ts';
import { createExactlyOnceLoop, type ExactlyOnceLoop, type OutboundRecord } from './exactly-once-loop.ts';

export interface TranslatorOptions<M extends RecordMap> {
  kafka: Kafka;
  codec: Codec;
  name: string;
  source: string;
  groupId: string;
  from: TopicDescriptor<M>;
  translate(event: TopicMessage<M>, meta: MessageMetadata): Outbound[] | Promise<Outbound[]>;
  logger: Logger;
  onTranslated?: (count: number) => void;
}

export function createTranslator<M extends RecordMap>(options: TranslatorOptions<M>): ExactlyOnceLoop {
  const { codec, from, logger } = options;

  async function handle(partition: number, messages: KafkaMessage[]) {
    const records: OutboundRecord[] = [];
    let translated = 0;
    for (const message of messages) {
      let event: TopicMessage<M>;
      try {
        event = (await codec.decode(from, message.value)).message;
      } catch (error) {
        if (error instanceof DecodeError && error.permanent) {
          records.push(deadLetterRecord({ topic: from.name, partition, message }, `undecodable: ${error.message}`, options.groupId));
          logger.warn({ topic: from.name, partition, offset: message.offset, reason: error.message }, 'event dead-lettered');
          continue;
        }
        throw error;
      }
      const meta = fromHeaders(message.headers, Number(message.timestamp));
      for (const { topic, message: command } of await options.translate(event, meta)) {
        const key = String((command.data as Record<string, unknown>)[topic.key]);
        const commandMeta: MessageMetadata = {
          id: newId(),
          type: codec.fullName(topic, command.type),
          source: options.source,
          time: meta.time,
          correlationId: meta.correlationId,
          causationId: meta.id,
        };
        records.push({ topic: topic.name, key, value: await codec.encode(topic, command as TopicMessage<RecordMap>), headers: toHeaders(commandMeta) });
        translated++;
      }
    }
    return {
      records,
      committed: () => options.onTranslated?.(translated),
      aborted: () => {},
    };
  }

  return createExactlyOnceLoop({
    kafka: options.kafka,
    groupId: options.groupId,
    topic: from.name,
    logger,
    concurrency: from.partitions,
    handler: { prepare: async () => {}, handle, release: () => {} },
  });
}
