// The consumer supervisor without Kafka: fake consumers whose crashes, stalls
// and hanging disconnects the test decides, on timings shortened from seconds
// to milliseconds. Given a consumer in some state, when it fails so, then the
// supervisor replaces it once, within its bounds.
import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import kafkajs, { type ConsumerConfig } from 'kafkajs';
import { superviseConsumer, type SupervisedConsumer } from '../../services/platform/kafka/supervised-consumer.ts';
import { createLogger } from '../../services/platform/logger.ts';

// The event names of a real kafkajs consumer (made, never connected).
const EVENTS = new kafkajs.Kafka({ brokers: ['127.0.0.1:1'], logLevel: kafkajs.logLevel.NOTHING }).consumer({ groupId: 'names' }).events;

interface Fake {
  id: number;
  events: typeof EVENTS;
  on<E>(name: string, listener: (event: E) => void): () => void;
  disconnect(): Promise<void>;
  emit(name: string, payload: unknown): void;
  disconnected: boolean;
}

interface Behaviour {
  /** What setup does with the n-th consumer (0-based). */
  setup?: (consumer: Fake, n: number) => Promise<void>;
  /** Whether the n-th consumer's disconnect ever returns. */
  hangsOnDisconnect?: (n: number) => boolean;
}

function harness(behaviour: Behaviour = {}) {
  const made: Fake[] = [];
  const setUp: number[] = [];
  const fatal: string[] = [];
  const kafka = {
    consumer(_config: ConsumerConfig): Fake {
      const id = made.length;
      const emitter = new EventEmitter();
      const fake: Fake = {
        id,
        events: EVENTS,
        disconnected: false,
        on(name, listener) {
          emitter.on(name, listener);
          return () => {};
        },
        disconnect() {
          fake.disconnected = true;
          return behaviour.hangsOnDisconnect?.(id) ? new Promise<void>(() => {}) : Promise.resolve();
        },
        emit(name, payload) {
          emitter.emit(name, { id: 0, type: name, timestamp: Date.now(), payload });
        },
      };
      made.push(fake);
      return fake;
    },
  };
  const supervisor: SupervisedConsumer<Fake> = superviseConsumer({
    kafka,
    config: { groupId: 'g' },
    logger: createLogger('unit', 'silent'),
    health: { fatal: (reason: string) => void fatal.push(reason) },
    timing: { backoffMs: 5, maxBackoffMs: 20, stalledAfterMs: 150, watchEveryMs: 10, disconnectBoundMs: 60, launchBoundMs: 100 },
    setup: async (consumer) => {
      setUp.push(consumer.id);
      await behaviour.setup?.(consumer, consumer.id);
    },
  });
  return { supervisor, made, setUp, fatal };
}

const crash = (consumer: Fake) => consumer.emit(EVENTS.CRASH, { error: new Error('The coordinator is not aware of this member'), groupId: 'g', restart: false });
const running = (consumer: Fake) => consumer.emit(EVENTS.FETCH_START, {});
const until = async (what: string, condition: () => boolean, withinMs = 2_000) => {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('consumer supervisor', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('replaces a consumer that crashes while running, after leaving with the old one', async () => {
    const { supervisor, made, setUp } = harness();
    stop = () => supervisor.stop();
    await supervisor.start();
    crash(made[0]!);
    await until('a second consumer set up', () => setUp.length === 2);
    expect(made[0]!.disconnected).to.equal(true);
    expect(supervisor.current()).to.equal(made[1]);
  });

  it('replaces once, however many crashes arrive meanwhile', async () => {
    const { supervisor, made, setUp } = harness();
    stop = () => supervisor.stop();
    await supervisor.start();
    for (let i = 0; i < 5; i++) crash(made[0]!);
    await until('a replacement', () => setUp.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(setUp).to.deep.equal([0, 1]);
  });

  it('counts a crash while joining as a failed launch, and tries again (kafkajs run() resolves even then)', async () => {
    const { supervisor, setUp } = harness({ setup: async (consumer, n) => (n === 0 ? crash(consumer) : undefined) });
    stop = () => supervisor.stop();
    await supervisor.start(); // does not throw: the crash is the supervisor's to handle
    await until('a second consumer set up', () => setUp.length === 2);
  });

  it('replaces a consumer that stops fetching and heartbeating without a crash', async () => {
    const { supervisor, made, setUp } = harness({ setup: async (consumer, n) => (n > 0 ? running(consumer) : undefined) });
    stop = () => supervisor.stop();
    await supervisor.start();
    await until('the stalled consumer replaced', () => setUp.length === 2, 1_000);
    expect(made[0]!.disconnected).to.equal(true);
  });

  it('abandons a consumer that never finishes leaving, after its bound, and starts the next', async () => {
    const { supervisor, made, setUp } = harness({ hangsOnDisconnect: (n) => n === 0 });
    stop = () => supervisor.stop();
    await supervisor.start();
    crash(made[0]!);
    await until('a replacement despite the hanging disconnect', () => setUp.length === 2, 1_000);
  });

  it('gives up on a launch that never joins, after its bound, and tries again', async () => {
    const { supervisor, made, setUp } = harness({ setup: (_consumer, n) => (n === 1 ? new Promise<void>(() => {}) : Promise.resolve()) });
    stop = () => supervisor.stop();
    await supervisor.start();
    crash(made[0]!);
    await until('a third consumer after the hanging second', () => setUp.length === 3, 1_000);
    expect(supervisor.current()).to.equal(made[2]);
  });

  it('declares the process not live after ten failed replacements in a row', async () => {
    const { supervisor, made, fatal } = harness({ setup: async (_consumer, n) => (n > 0 ? Promise.reject(new Error('broker unreachable')) : undefined) });
    stop = () => supervisor.stop();
    await supervisor.start();
    crash(made[0]!);
    await until('fatal', () => fatal.length > 0, 3_000);
    expect(fatal[0]).to.equal('consumer group g could not be restarted 10 times in a row: broker unreachable');
  });
});
