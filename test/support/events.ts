// Reading an events topic back, decoded, with each record's metadata.
import type { PlatformConfig } from '../../services/platform/config.ts';
import { fromHeaders, type MessageMetadata } from '../../services/platform/headers.ts';
import type { Codec } from '../../services/platform/schemas/codec.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../../services/platform/topics.ts';
import { readTopic } from './kafka.ts';

export type Recorded<M extends RecordMap> = TopicMessage<M> & { meta: MessageMetadata; partition: number; offset: string; key: string | undefined };

export async function readEvents<M extends RecordMap>(
  config: PlatformConfig,
  codec: Codec,
  topic: TopicDescriptor<M>,
  done: (events: Recorded<M>[]) => boolean,
  timeoutMs = 60_000,
): Promise<Recorded<M>[]> {
  // Slots in arrival order (offset order within a partition); decoding finishes out of order.
  const slots: (Recorded<M> | undefined)[] = [];
  let filled = 0;
  let seen = 0;
  // Decoding is asynchronous; decode as messages arrive, then ask `done`.
  const pending: Promise<void>[] = [];
  await readTopic(
    config,
    topic.name,
    (messages) => {
      for (; seen < messages.length; seen++) {
        const m = messages[seen]!;
        const slot = seen;
        slots.push(undefined);
        pending.push(
          codec.decode(topic, m.value).then((d) => {
            slots[slot] = { ...d.message, meta: fromHeaders(m.headers, Number(m.timestamp)), partition: m.partition, offset: m.offset, key: m.key };
            filled++;
          }),
        );
      }
      return filled === slots.length && done(slots as Recorded<M>[]);
    },
    timeoutMs,
  );
  return slots as Recorded<M>[];
}
