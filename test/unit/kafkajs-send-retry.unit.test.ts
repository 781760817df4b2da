// The kafkajs patch (patches/kafkajs+2.2.4.patch) for sends that span several
// partitions and topics. Unpatched, kafkajs 2.2.4 (1) resolved a send without
// a partition whose leader had moved to a broker that had already answered,
// and (2) sent every partition of a node twice, with consecutive sequence
// numbers, when it held two Broker objects for that node (after a reconnect),
// so the broker appended them twice. Both showed in npm run test:cluster.
import { createRequire } from 'node:module';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const createSendMessages = require('kafkajs/src/producer/sendMessages.js') as (deps: object) => (request: object) => Promise<{ topicName: string; partition: number }[]>;

interface Broker {
  nodeId: number;
  produce(request: { topicData: { topic: string; partitions: { partition: number; messages: unknown[] }[] }[] }): Promise<object>;
}

const notLeader = () => Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_OR_FOLLOWER', retriable: true });

/** kafkajs's EOS manager as sendMessages uses it: sequence numbers per partition, one request per broker at a time. */
function fakeEosManager() {
  const sequences = new Map<string, number>();
  const locks = new Map<Broker, Promise<void>>();
  const release = new Map<Broker, () => void>();
  const eosManager = {
    acquireBrokerLock: async (b: Broker) => {
      while (locks.has(b)) await locks.get(b);
      locks.set(b, new Promise<void>((resolve) => release.set(b, resolve)));
    },
    releaseBrokerLock: async (b: Broker) => {
      locks.delete(b);
      release.get(b)?.();
    },
    isTransactional: () => false,
    getTransactionalId: () => undefined,
    getProducerId: () => 1,
    getProducerEpoch: () => 0,
    getSequence: (topic: string, partition: number) => sequences.get(`${topic}|${partition}`) ?? 0,
    updateSequence: (topic: string, partition: number, n: number) => sequences.set(`${topic}|${partition}`, (sequences.get(`${topic}|${partition}`) ?? 0) + n),
  };
  return { sequences, eosManager };
}

/** A retrier that tries again at once, up to three times, as kafkajs's would after its backoff. */
async function retryAtOnce(fn: (bail: (e: Error) => never, n: number, t: number) => Promise<unknown>): Promise<unknown> {
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
}

type TopicData = Parameters<Broker['produce']>[0]['topicData'];

/** A broker's answer acknowledging every partition of a produce request. */
const acknowledged = (topicData: TopicData) => ({
  topics: topicData.map((t) => ({ topicName: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })) })),
});

/** What sendMessages asks of the cluster: each partition's leader (asked anew on every lookup) and the broker for a node. */
function fakeCluster(leaderOf: (topic: string, partition: number) => number, findBroker: (nodeId: number) => Broker) {
  return {
    refreshMetadataIfNecessary: async () => {},
    refreshMetadata: async () => {},
    addMultipleTargetTopics: async () => {},
    isConnected: () => true,
    findTopicPartitionMetadata: (topic: string) => [0, 1].map((partitionId) => ({ partitionId, leader: leaderOf(topic, partitionId) })),
    findLeaderForPartitions: (topic: string, partitions: string[]) => {
      const result: Record<number, number[]> = {};
      for (const p of partitions.map(Number)) (result[leaderOf(topic, p)] ??= []).push(p);
      return result;
    },
    findBroker: async ({ nodeId }: { nodeId: number | string }) => findBroker(Number(nodeId)),
  };
}

function sendMessages(cluster: ReturnType<typeof fakeCluster>, partitioner: (args: { message: { partition?: number } }) => number) {
  const { sequences, eosManager } = fakeEosManager();
  return { sequences, send: createSendMessages({ logger: { debug() {}, error() {} }, cluster, partitioner, eosManager, retrier: retryAtOnce }) };
}

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
        return acknowledged(topicData);
      },
    });
    const brokers = new Map([
      [1, broker(1)],
      [2, broker(2)],
    ]);
    const cluster = fakeCluster(
      (_topic, partition) => leaders.get(partition)!,
      (nodeId) => brokers.get(nodeId)!,
    );
    const { sequences, send } = sendMessages(cluster, ({ message }) => message.partition!);

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

  it('sends each partition once when the broker object for a node is replaced mid-send (two topics, one leader)', async () => {
    // Given two topics whose partitions node 1 leads, and a cluster that hands out a new Broker
    // object for node 1 on every lookup, as kafkajs does after it reconnects during a fault.
    const sent: { topic: string; partition: number; firstSequence: number }[] = [];
    const fresh = (): Broker => ({
      nodeId: 1,
      async produce({ topicData }) {
        for (const t of topicData) for (const p of t.partitions) sent.push({ topic: t.topic, partition: p.partition, firstSequence: (p as { firstSequence?: number }).firstSequence ?? -1 });
        return acknowledged(topicData);
      },
    });
    const { send } = sendMessages(
      fakeCluster(
        () => 1,
        () => fresh(),
      ),
      () => 0,
    );

    // When one send carries a record for each topic
    await send({
      acks: -1,
      timeout: 1000,
      topicMessages: [
        { topic: 'events', messages: [{ value: 'a' }] },
        { topic: 'answers', messages: [{ value: 'b' }] },
      ],
    });

    // Then each partition went out once, with sequence 0: nothing a broker would append twice
    expect(sent).to.have.deep.members([
      { topic: 'events', partition: 0, firstSequence: 0 },
      { topic: 'answers', partition: 0, firstSequence: 0 },
    ]);
    expect(sent).to.have.length(2);
  });

  it('lets every request of an attempt settle before retrying, so a slow one is not sent again', async () => {
    // Given node 1 leading "events" (answers slowly) and node 2 leading "answers" (fails once, fast)
    const sent: { broker: number; topic: string; firstSequence: number }[] = [];
    let failedOnce = false;
    const broker = (nodeId: number): Broker => ({
      nodeId,
      async produce({ topicData }) {
        for (const t of topicData) for (const p of t.partitions) sent.push({ broker: nodeId, topic: t.topic, firstSequence: (p as { firstSequence?: number }).firstSequence ?? -1 });
        if (nodeId === 2 && !failedOnce) {
          failedOnce = true;
          throw notLeader();
        }
        if (nodeId === 1) await new Promise((resolve) => setTimeout(resolve, 30));
        return acknowledged(topicData);
      },
    });
    const brokers = new Map([
      [1, broker(1)],
      [2, broker(2)],
    ]);
    const { send } = sendMessages(
      fakeCluster(
        (topic) => (topic === 'events' ? 1 : 2),
        (nodeId) => brokers.get(nodeId)!,
      ),
      () => 0,
    );

    // When one send carries a record for each topic
    await send({
      acks: -1,
      timeout: 1000,
      topicMessages: [
        { topic: 'events', messages: [{ value: 'a' }] },
        { topic: 'answers', messages: [{ value: 'b' }] },
      ],
    });

    // Then "events" went out once; only "answers" was retried, with the same sequence
    expect(sent.filter((s) => s.topic === 'events')).to.deep.equal([{ broker: 1, topic: 'events', firstSequence: 0 }]);
    expect(sent.filter((s) => s.topic === 'answers')).to.deep.equal([
      { broker: 2, topic: 'answers', firstSequence: 0 },
      { broker: 2, topic: 'answers', firstSequence: 0 },
    ]);
  });
});
