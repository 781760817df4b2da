// The one way a consumer decodes a message: with the writer schema already in
// hand when it is (no promise on the hot path), else fetched from the
// registry; a message that can never be decoded comes back as poison, with
// the reason, for the caller to dead-letter; a failure that may pass (the
// registry away) is thrown, so the batch is retried.
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';
import { DecodeError, type DecodedMessage } from './codec.ts';

export type Decoded<M extends RecordMap> = { ok: true; message: TopicMessage<M> } | { ok: false; poison: string };

/** The part of a Codec that reads one topic's messages (any Codec is one). */
export interface Decoding<M extends RecordMap> {
  decodeKnown(topic: TopicDescriptor<M>, value: Buffer | null): DecodedMessage<M> | undefined;
  decode(topic: TopicDescriptor<M>, value: Buffer | null): Promise<DecodedMessage<M>>;
}

export async function decodeOrPoison<M extends RecordMap>(codec: Decoding<NoInfer<M>>, topic: TopicDescriptor<M>, value: Buffer | null): Promise<Decoded<M>> {
  try {
    const decoded = codec.decodeKnown(topic, value) ?? (await codec.decode(topic, value));
    return { ok: true, message: decoded.message };
  } catch (error) {
    if (error instanceof DecodeError && error.permanent) return { ok: false, poison: `undecodable: ${error.message}` };
    throw error;
  }
}
