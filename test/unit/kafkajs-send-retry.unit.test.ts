// The kafkajs patch (patches/kafkajs+2.2.4.patch) for sends that span several
// partition leaders: when one leader fails and its partition moves to a broker
// that has already answered for others, the retry must send that partition
// there, and only that one. Unpatched, the send resolved without it.
import { createRequire } from 'node:module';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const createSendMessages = require('kafkajs/src/producer/sendMessages.js') as (deps: object) => (request: object) => Promise<{ topicName: string; partition: number }[]>;

interface Broker {
  nodeId: number;
  produce(request: { topicData: { topic: string; partitions: { partition: number; messages: unknown[] }[] }[] }): Promise<object>;
}

const notLeader = () => Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_OR_FOLLOWER', retriable: true });

describe('kafkajs send retried after a leader moved (patched)', () => {
  it('sends the moved partition to the broker that already answered, and nothing twice', async () => {
    // Given partition 0 led by broker 1 and partition 1 by broker 2; broker 2 fails once, then partition 1 moves to broker 1.
    const leaders = new Map([
      [0, 1],
      [1, 2],
    ]);
    const sent: { broker: number; partitions: number[] }[] = [];
    const broker = (nodeId: number): Broker => ({
      nodeId,
      async produce({ topicData }) {
        const partitions = topicData.flatMap((t) => t.partitions.map((p) => p.partition));
        sent.push({ broker: nodeId, partitions });
        if (nodeId === 2) {
          leaders.set(1, 1);
          throw notLeader();
        }
        return { topics: topicData.map((t) => ({ topicName: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })) })) };
      },
    });
    const brokers = new Map([
      [1, broker(1)],
      [2, broker(2)],
    ]);
    const cluster = {
      refreshMetadataIfNecessary: async () => {},
      refreshMetadata: async () => {},
      addMultipleTargetTopics: async () => {},
      isConnected: () => true,
      findTopicPartitionMetadata: () => [
        { partitionId: 0, leader: leaders.get(0) },
        { partitionId: 1, leader: leaders.get(1) },
      ],
      findLeaderForPartitions: (_topic: string, partitions: string[]) => {
        const result: Record<number, number[]> = {};
        for (const p of partitions.map(Number)) (result[leaders.get(p)!] ??= []).push(p);
        return result;
      },
      findBroker: async ({ nodeId }: { nodeId: number | string }) => brokers.get(Number(nodeId))!,
    };
    const sequences = new Map<string, number>();
    const eosManager = {
      acquireBrokerLock: async () => {},
      releaseBrokerLock: async () => {},
      isTransactional: () => false,
      getTransactionalId: () => undefined,
      getProducerId: () => 1,
      getProducerEpoch: () => 0,
      getSequence: (topic: string, partition: number) => sequences.get(`${topic}|${partition}`) ?? 0,
      updateSequence: (topic: string, partition: number, n: number) => sequences.set(`${topic}|${partition}`, (sequences.get(`${topic}|${partition}`) ?? 0) + n),
    };
    // A retrier that tries again at once, as kafkajs's would after its backoff.
    const retrier = async (fn: (bail: (e: Error) => never, n: number, t: number) => Promise<unknown>) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fn(
            (e) => {
              throw e;
            },
            attempt,
            0,
          );
        } catch (error) {
          if (attempt >= 3) throw error;
        }
      }
    };
    const partitioner = ({ message }: { message: { partition: number } }) => message.partition;
    const send = createSendMessages({ logger: { debug() {}, error() {} }, cluster, partitioner, eosManager, retrier });

    // When one send carries a record for each partition
    const acks = await send({
      acks: -1,
      timeout: 1000,
      topicMessages: [
        {
          topic: 't',
          messages: [
            { partition: 0, value: 'a' },
            { partition: 1, value: 'b' },
          ],
        },
      ],
    });

    // Then partition 1 went to broker 1 on the retry, partition 0 was not sent again, and both were acknowledged
    expect(sent).to.deep.equal([
      { broker: 1, partitions: [0] },
      { broker: 2, partitions: [1] },
      { broker: 1, partitions: [1] },
    ]);
    expect(acks.map((a) => a.partition).sort()).to.deep.equal([0, 1]);
    expect(sequences.get('t|0')).to.equal(1);
    expect(sequences.get('t|1')).to.equal(1);
  });
});
