// A command for another aggregate (a reaction, a translation), as a record for
// the exactly-once loop: keyed by the aggregate it is for, stamped with a new
// id, and carrying the correlation and causation of what caused it.
import { newId, toHeaders, type MessageMetadata } from '../headers.ts';
import type { Codec } from '../schemas/codec.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';
import type { OutboundRecord } from './exactly-once-loop.ts';

export function outboundCommand(codec: Pick<Codec, 'encode' | 'fullName'>, topic: TopicDescriptor, message: TopicMessage<RecordMap>, meta: Omit<MessageMetadata, 'id' | 'type'>): OutboundRecord {
  return {
    topic: topic.name,
    key: String((message.data as Record<string, unknown>)[topic.key]),
    value: codec.encode(topic, message),
    headers: toHeaders({ id: newId(), type: codec.fullName(topic, message.type), ...meta }),
  };
}
