// Reading topics back in tests: a throwaway consumer group reads from the
// beginning until it has seen what the test expects, or fails with what it saw.
import crypto from 'node:crypto';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { PlatformConfig } from '../../services/platform/config.ts';
import { createKafka } from '../../services/platform/kafka/client.ts';
import { createLogger } from '../../services/platform/logger.ts';

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | undefined;
  value: Buffer | null;
  headers: IHeaders | undefined;
  timestamp: string;
}

export function kafkaFor(config: PlatformConfig, clientId = 'test') {
  return createKafka({ brokers: config.kafka.brokers, clientId, security: config.kafka.security, logger: createLogger(clientId, 'error') });
}

/** Every committed message of a topic, read until `done` says so or the timeout passes. */
export async function readTopic(config: PlatformConfig, topic: string, done: (messages: ReadMessage[]) => boolean, timeoutMs = 30_000): Promise<ReadMessage[]> {
  const consumer = kafkaFor(config, 'test-reader').consumer({ groupId: `test-reader-${crypto.randomUUID()}`, maxWaitTimeInMs: 100 });
  const messages: ReadMessage[] = [];
  // A group that rejoins (a coordinator moved, a broker restarted) fetches again
  // from its last committed offset: count each record once.
  const read = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`read ${messages.length} messages from ${topic} within ${timeoutMs}ms without meeting the expectation`));
      }, timeoutMs);
      const check = () => {
        if (done(messages)) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve();
        }
      };
      // Also re-check on a clock: a condition may hinge on work finished after the last message.
      const poll = setInterval(check, 50);
      check();
      consumer
        .run({
          eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
            const id = `${partition}@${message.offset}`;
            if (read.has(id)) return;
            read.add(id);
            messages.push({ partition, offset: message.offset, key: message.key?.toString(), value: message.value, headers: message.headers, timestamp: message.timestamp });
            check();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
