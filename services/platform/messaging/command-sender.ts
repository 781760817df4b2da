// Appends commands to a command topic: keyed by the aggregate id (so the
// aggregate's owner decides them in order), idempotent, acknowledged by all
// in-sync replicas, with CloudEvents headers whose ce_id is the command id and
// whose correlation id ties the command to whatever it causes.
import type { Kafka } from 'kafkajs';
import { createSafeProducer } from '../kafka/producer.ts';
import { newId, toHeaders, type MessageMetadata } from '../headers.ts';
import type { Codec } from '../schemas/codec.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';
import { inProduceSpan, traceOf } from '../tracing/spans.ts';

export interface SentCommand {
  commandId: string;
  correlationId: string;
  key: string;
}

export interface CommandSender {
  send<M extends RecordMap>(topic: TopicDescriptor<M>, message: TopicMessage<M>, options?: { correlationId?: string; time?: number; commandId?: string }): Promise<SentCommand>;
  sendMany<M extends RecordMap>(topic: TopicDescriptor<M>, messages: TopicMessage<M>[], options?: { correlationId?: string }): Promise<SentCommand[]>;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export function createCommandSender(kafka: Kafka, codec: Codec, source: string): CommandSender {
  const producer = createSafeProducer(kafka);

  function prepare<M extends RecordMap>(topic: TopicDescriptor<M>, message: TopicMessage<M>, correlationId?: string, time?: number, commandId = newId()) {
    const key = String((message.data as Record<string, unknown>)[topic.key]);
    const meta: MessageMetadata = {
      id: commandId,
      type: codec.fullName(topic, message.type),
      source,
      time: time ?? Date.now(),
      correlationId: correlationId ?? commandId,
    };
    const trace = traceOf();
    if (trace) meta.trace = trace;
    const value = codec.encode(topic, message);
    return { sent: { commandId, correlationId: meta.correlationId, key }, message: { key, value, headers: toHeaders(meta) } };
  }

  return {
    send(topic, message, options = {}) {
      return inProduceSpan(topic.name, options.correlationId, async () => {
        const { sent, message: record } = prepare(topic, message, options.correlationId, options.time, options.commandId);
        await producer.send({ topic: topic.name, messages: [record] });
        return sent;
      });
    },
    sendMany(topic, messages, options = {}) {
      return inProduceSpan(topic.name, options.correlationId, async () => {
        const prepared = messages.map((m) => prepare(topic, m, options.correlationId));
        await producer.send({ topic: topic.name, messages: prepared.map((p) => p.message) });
        return prepared.map((p) => p.sent);
      });
    },
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
  };
}
