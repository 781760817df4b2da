// The one decode every consumer uses: the cached writer schema when there is
// one, the registry otherwise; poison (never decodable) comes back to be
// dead-lettered, a failure that may pass (the registry away) is thrown so the
// batch is retried.
import { expect } from 'chai';
import type { InventoryEvents } from '../../schemas/generated/inventory.events.ts';
import { DecodeError, SchemaRegistryError, type DecodedMessage } from '../../services/platform/schemas/codec.ts';
import { decodeOrPoison, type Decoding } from '../../services/platform/schemas/decode-or-poison.ts';
import type { TopicMessage } from '../../services/platform/topics.ts';
import { topicsFor } from '../../services/topics.ts';

const topic = topicsFor('t.').inventoryEvents;
const message: TopicMessage<InventoryEvents> = { type: 'OutOfStock', data: { productVariantId: 'v-1', version: 3, occurredAt: 0 } };

/** The decoding half of a codec, whose cache and registry answer as told. */
function codec(known: 'hit' | 'miss', registry: () => Promise<unknown>): Decoding<InventoryEvents> {
  const decoded: DecodedMessage<InventoryEvents> = { message, schemaId: 1, fullName: 'commerce.inventory.OutOfStock' };
  return {
    decodeKnown: () => (known === 'hit' ? decoded : undefined),
    decode: () => registry().then(() => decoded),
  };
}

describe('decoding a consumed message', () => {
  it('uses the writer schema already in hand, without asking the registry', async () => {
    const result = await decodeOrPoison(
      codec('hit', () => Promise.reject(new Error('asked the registry'))),
      topic,
      Buffer.alloc(8),
    );
    expect(result).to.deep.equal({ ok: true, message });
  });

  it('fetches the writer schema when it is not in hand', async () => {
    expect(
      await decodeOrPoison(
        codec('miss', () => Promise.resolve()),
        topic,
        Buffer.alloc(8),
      ),
    ).to.deep.equal({ ok: true, message });
  });

  it('returns poison, with the reason, for what can never be decoded', async () => {
    const result = await decodeOrPoison(
      codec('miss', () => Promise.reject(new DecodeError('bad magic byte 123', true))),
      topic,
      Buffer.alloc(8),
    );
    expect(result).to.deep.equal({ ok: false, poison: 'undecodable: bad magic byte 123' });
  });

  it('throws what may pass, so the batch is retried and nothing is dead-lettered', async () => {
    for (const error of [new DecodeError('schema registry unreachable', false), new SchemaRegistryError('registry did not answer'), new Error('socket hang up')]) {
      let thrown: unknown;
      await decodeOrPoison(
        codec('miss', () => Promise.reject(error)),
        topic,
        Buffer.alloc(8),
      ).catch((e: unknown) => (thrown = e));
      expect(thrown).to.equal(error);
    }
  });
});
