// Reading chosen partitions between two offsets (how a command processor
// restores its aggregates), on the real broker: the ranges asked for, and a
// caller whose own group is rebalancing ends the read instead of looping in it.
import { expect } from 'chai';
import kafkajs, { type Kafka } from 'kafkajs';
import { readPartitions } from '../../services/platform/kafka/partition-reader.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { kafkaFor } from '../support/kafka.ts';

const { KafkaJSProtocolError } = kafkajs;

describe('partition reader (real broker)', function () {
  this.timeout(60_000);
  let env: TestEnvironment;
  let kafka: Kafka;
  let topic: string;

  before(async () => {
    env = await provision('reader');
    kafka = kafkaFor(env.config);
    topic = `${env.prefix}reader-test`;
    await env.admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    for (const partition of [0, 1]) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ partition, value: `${partition}:${i}` })) });
    }
    await producer.disconnect();
  });
  after(async () => {
    await env?.admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await env?.close();
  });

  it('reads each partition from its first offset up to (not including) its last, in order', async () => {
    const read: string[] = [];
    await readPartitions({
      kafka,
      topic,
      ranges: [
        { partition: 0, from: 5n, to: 8n },
        { partition: 1, from: 18n, to: 20n },
      ],
      onBatch: (_, messages) => {
        for (const m of messages) read.push(m.value!.toString());
      },
    });
    expect(read.filter((v) => v.startsWith('0:'))).to.deep.equal(['0:5', '0:6', '0:7']);
    expect(read.filter((v) => v.startsWith('1:'))).to.deep.equal(['1:18', '1:19']);
  });

  it("ends with the caller's heartbeat error, once, rather than rejoining its own group and reading again", async () => {
    // What a caller's heartbeat throws while the caller's group rebalances: a
    // retriable kafkajs error that the reader's runner would take for its own.
    const rebalancing = new KafkaJSProtocolError(Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), { type: 'REBALANCE_IN_PROGRESS', code: 27, retriable: true }));
    let batches = 0;
    let heartbeats = 0;
    const reading = readPartitions({
      kafka,
      topic,
      ranges: [{ partition: 0, from: 0n, to: 20n }],
      onBatch: () => {
        batches++;
      },
      onProgress: async () => {
        heartbeats++;
        throw rebalancing;
      },
    });
    const failure = await reading.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).to.equal(rebalancing);
    expect({ batches, heartbeats }).to.deep.equal({ batches: 1, heartbeats: 1 });
  });

  it('fails, naming what is left, when reading stops moving', async () => {
    // Offsets past the end never arrive: the read must not wait for ever.
    const failure = await readPartitions({ kafka, topic, ranges: [{ partition: 1, from: 20n, to: 25n }], onBatch: () => {}, stalledAfterMs: 2_000 }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure?.message).to.match(/^reading .*reader-test stalled: no batch for \d+ ms; partitions left: 1 up to 25$/);
  });
});
