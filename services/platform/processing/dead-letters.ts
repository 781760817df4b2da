// A message that cannot be handled goes to `<topic>.dlq`, byte for byte, with
// where it came from and why in its headers; the consumer goes on.
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { OutboundRecord } from './exactly-once-loop.ts';
import { deadLetterTopicName } from '../topics.ts';

export const DLQ_HEADER = {
  reason: 'dlq_reason',
  topic: 'dlq_topic',
  partition: 'dlq_partition',
  offset: 'dlq_offset',
  consumer: 'dlq_consumer',
  time: 'dlq_time',
} as const;

export function deadLetterRecord(source: { topic: string; partition: number; message: KafkaMessage }, reason: string, consumer: string, now = Date.now()): OutboundRecord {
  const headers: IHeaders = {
    ...(source.message.headers ?? {}),
    [DLQ_HEADER.reason]: reason.slice(0, 2000),
    [DLQ_HEADER.topic]: source.topic,
    [DLQ_HEADER.partition]: String(source.partition),
    [DLQ_HEADER.offset]: source.message.offset,
    [DLQ_HEADER.consumer]: consumer,
    [DLQ_HEADER.time]: new Date(now).toISOString(),
  };
  return {
    topic: deadLetterTopicName(source.topic),
    key: source.message.key?.toString() ?? null,
    value: source.message.value,
    headers,
  };
}
