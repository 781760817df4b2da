// npm run test:cluster: the promises (nothing acknowledged lost, nothing
// oversold, nothing decided twice, versions contiguous) on a three-broker
// cluster with replication 3 and min ISR 2, while brokers die or are patched
// under a steady stream of checkouts and reservations. Each fault is timed:
// how long until checkouts flow again. Figures go to bench/results/cluster.md.
import { expect } from 'chai';
import type { Admin } from 'kafkajs';
import { record } from '../../bench/support.ts';
import { KAFKA_VERSION } from '../../scripts/embedded/layout.ts';
import { runningPid } from '../../scripts/embedded/processes.ts';
import { createCodec, type Codec } from '../../services/platform/schemas/codec.ts';
import { startChild, type ChildService } from '../support/child-service.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { readEvents, type Recorded } from '../support/events.ts';
import type { RecordMap, TopicDescriptor } from '../../services/platform/topics.ts';
import { eventually } from '../support/eventually.ts';
import { call, freePort } from '../support/http.ts';
import { recoveryAfter, startLoad, watchOutcomes, type OutcomeWatch } from './support/checkout-load.ts';
import { activeController, busiestLeader, busiestTransactionCoordinator, cluster, coordinatorOf, fullyReplicated, killNode, startNodeAgain, stopNode } from './support/cluster.ts';
import { verify, type Verdict } from './support/invariants.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const STEADY_MS = 8_000;
const DOWN_MS = 12_000;
const RATE = Number(process.env.CLUSTER_RATE ?? 8);

interface Figures extends Omit<Verdict, 'problems'> {
  scenario: string;
  fault: string;
  checkoutsFlowAgainMs: number;
  longestOutcomeGapMs: number;
  servicesReadyMs: number;
}

describe(`three-broker cluster (Kafka ${KAFKA_VERSION}, replication 3, min ISR 2) under load`, function () {
  this.timeout(600_000);
  let env: TestEnvironment;
  let codec: Codec;
  let admin: Admin;
  let outcomes: OutcomeWatch;
  const children: ChildService[] = [];
  const base = { product: '', inventory: '', order: '' };
  const variants: string[] = [];
  const figures: Figures[] = [];

  before(async () => {
    env = await provision('cluster');
    admin = env.admin;
    codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [] });
    const ports = { inventory: await freePort(), product: await freePort(), order: await freePort() };
    for (const [name, port] of Object.entries(ports)) base[name as keyof typeof base] = `http://127.0.0.1:${port}`;
    const common = {
      TOPIC_PREFIX: env.prefix,
      LOG_LEVEL: 'warn',
      INVENTORY_PORT: String(ports.inventory),
      PRODUCT_PORT: String(ports.product),
      ORDER_PORT: String(ports.order),
      INVENTORY_URL: base.inventory,
    };
    for (const name of ['inventory', 'product', 'order']) children.push(startChild(`services/${name}/main.ts`, common, `cluster-${name}`));
    await allReady(120_000);
    // A small catalogue; four variants with little stock, so that some checkouts are refused.
    for (let p = 0; p < 6; p++) {
      const res = await call(base.product, 'POST', '/api/v1/products', {
        name: `Cluster ${p}`,
        category: 'cluster',
        currency: 'EUR',
        variants: [0, 1].map((v) => ({ sku: `CL-${p}-${v}`, price: 10 + p, initialStock: p < 2 ? 150 : 100_000 })),
      });
      expect(res.status, JSON.stringify(res.body)).to.be.oneOf([201, 202]);
      await eventually(async () => {
        const view = await call(base.product, 'GET', `/api/v1/products/${res.body.id}`);
        expect(view.body?.variants?.every((v: { status: string }) => v.status === 'ACTIVE')).to.equal(true);
        variants.push(...view.body.variants.map((v: { id: string }) => v.id));
      }, 60_000);
    }
    outcomes = await watchOutcomes(env.config, env.topics.orderEvents.name);
  });

  after(async () => {
    await outcomes?.stop();
    await Promise.all(children.map((c) => c.kill('SIGTERM')));
    // Leave the cluster whole for whatever runs next.
    for (const node of cluster.nodes) if (runningPid(node.process) === undefined) await startNodeAgain(node.id);
    await env?.close();
    if (figures.length) writeFigures(figures);
  });

  async function allReady(timeoutMs: number): Promise<void> {
    await eventually(async () => {
      for (const url of Object.values(base)) expect((await call(url, 'GET', '/health/ready')).status, `${url} ready`).to.equal(200);
    }, timeoutMs);
  }

  /**
   * Load throughout; `fault` breaks something and returns when it is over (the
   * node back); then the load runs on until checkouts sent after the fault
   * reach their outcomes, and everything is checked against the log.
   */
  async function underLoad(scenario: string, fault: () => Promise<{ at: number; what: string }>): Promise<Figures> {
    const load = startLoad({ name: scenario, endpoints: { order: base.order, inventory: base.inventory }, variants, ordersPerSecond: RATE, reservationsPerSecond: RATE });
    await sleep(STEADY_MS);
    const { at, what } = await fault();
    await eventually(async () => expect(recoveryAfter(at, load.orders, outcomes.seen).checkoutsFlowAgainMs).to.be.below(Infinity), 120_000);
    await allReady(60_000);
    const servicesReadyMs = Date.now() - at;
    await eventually(async () => expect(await fullyReplicated(admin)).to.equal(true), 120_000);
    await sleep(3_000);
    await load.stop();

    const acked = load.orders.filter((o) => o.id);
    await eventually(async () => expect(acked.filter((o) => !outcomes.seen.has(o.id!)).length, 'acknowledged orders without an outcome yet').to.equal(0), 120_000).catch(() => {});
    const ackedIds = new Set(acked.map((o) => o.id!));
    const ackedReservations = new Set(load.reservations.filter((r) => r.status !== undefined).map((r) => r.key));
    const [orderEvents, inventoryEvents] = await Promise.all([
      readSettled(env.topics.orderEvents, ackedIds, (e) => (e.type === 'OrderConfirmed' || e.type === 'OrderRejected' ? e.key : undefined)),
      readSettled(env.topics.inventoryEvents, ackedReservations, (e) => (e.type === 'StockReserved' || e.type === 'ReservationRejected' ? e.data.reservationId : undefined)),
    ]);
    const { problems, ...verdict } = verify(load.orders, load.reservations, orderEvents, inventoryEvents);
    const recovery = recoveryAfter(at, load.orders, outcomes.seen);
    const result: Figures = { scenario, fault: what, ...recovery, servicesReadyMs, ...verdict };
    figures.push(result);
    console.log(`      ${scenario}: ${JSON.stringify(result)}`);
    expect(problems.slice(0, 10), `${problems.length} problems`).to.deep.equal([]);
    expect(verdict.acknowledgedOrders).to.be.greaterThan(0);
    return result;
  }

  /**
   * A whole events topic, read until every expected id has its outcome and two
   * more seconds have passed (so a late duplicate would be read too); what was
   * read by then if some never show (the check names them).
   */
  async function readSettled<M extends RecordMap>(topic: TopicDescriptor<M>, expected: Set<string>, outcomeOf: (e: Recorded<M>) => string | undefined): Promise<Recorded<M>[]> {
    const missing = new Set(expected);
    let scanned = 0;
    let settledSince: number | undefined;
    let read: Recorded<M>[] = [];
    const done = (events: Recorded<M>[]) => {
      read = events;
      for (; scanned < events.length; scanned++) {
        const id = outcomeOf(events[scanned]!);
        if (id !== undefined) missing.delete(id);
      }
      if (missing.size > 0) return false;
      settledSince ??= Date.now();
      return Date.now() - settledSince > 2_000;
    };
    await readEvents(env.config, codec, topic, done, 90_000).catch(() => {});
    return read;
  }

  /** SIGKILL a node, keep it down a while, start it again. */
  const killAndRestart = async (node: number, why: string) => {
    const at = Date.now();
    killNode(node);
    await sleep(DOWN_MS);
    await startNodeAgain(node);
    return { at, what: `SIGKILL node ${node} (${why}), back after ${Math.round((Date.now() - at) / 1000)} s` };
  };

  it('loses nothing when the broker leading most inventory partitions is killed, and recovers within 30 s', async () => {
    const result = await underLoad('leader-kill', async () =>
      killAndRestart(await busiestLeader(admin, [`${env.prefix}inventory.commands`, `${env.prefix}inventory.events`]), 'leads most inventory partitions'),
    );
    expect(result.checkoutsFlowAgainMs).to.be.below(30_000);
  });

  it("loses nothing when the broker coordinating the processors' transactions is killed", async () => {
    const ids = [...Array.from({ length: 6 }, (_, p) => `${env.prefix}inventory-processor-${p}`), ...Array.from({ length: 3 }, (_, p) => `${env.prefix}order-processor-${p}`)];
    const result = await underLoad('transaction-coordinator-kill', async () => killAndRestart(await busiestTransactionCoordinator(admin, ids), 'coordinates most processor transactions'));
    expect(result.checkoutsFlowAgainMs).to.be.below(30_000);
  });

  it("loses nothing when the broker coordinating the inventory processor's group is killed", async () => {
    const result = await underLoad('group-coordinator-kill', async () =>
      killAndRestart(await coordinatorOf(admin, `${env.prefix}inventory-processor`, 'group'), 'coordinates the inventory processor group'),
    );
    expect(result.checkoutsFlowAgainMs).to.be.below(30_000);
  });

  it('loses nothing when the active KRaft controller is killed', async () => {
    const result = await underLoad('controller-kill', async () => killAndRestart(activeController(), 'active KRaft controller'));
    expect(result.checkoutsFlowAgainMs).to.be.below(30_000);
  });

  it('fails no checkout (beyond retried ones) through a rolling restart of all three brokers', async () => {
    const result = await underLoad('rolling-restart', async () => {
      const at = Date.now();
      for (const node of cluster.nodes) {
        await stopNode(node.id); // controlled shutdown: leadership moves first
        await startNodeAgain(node.id);
        await eventually(async () => expect(await fullyReplicated(admin)).to.equal(true), 120_000);
      }
      return { at, what: `each node in turn: SIGTERM, start, wait for full ISR (${Math.round((Date.now() - at) / 1000)} s)` };
    });
    expect(result.failed).to.equal(0);
  });
});

function writeFigures(figures: Figures[]): void {
  const seconds = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'never');
  const rows = figures.map(
    (f) =>
      `| ${f.scenario} | ${f.fault} | ${seconds(f.checkoutsFlowAgainMs)} | ${seconds(f.longestOutcomeGapMs)} | ${f.acknowledgedOrders} / ${f.acknowledgedReservations} | ${f.retried} | ${f.failed} | ${f.lost} | ${f.duplicates} | ${f.oversold} | ${f.versionGaps} |`,
  );
  record(
    'cluster',
    { kafkaVersion: KAFKA_VERSION, ratePerSecond: { orders: RATE, reservations: RATE }, scenarios: figures },
    `
## Three-broker cluster under faults (\`npm run test:cluster\`)

Kafka ${KAFKA_VERSION}, three KRaft nodes (each broker and controller) on this machine, replication 3, min ISR 2; the three services as separate processes; ${RATE} checkouts/s and ${RATE} reservations/s over HTTP throughout, each retried with its idempotency key until acknowledged.
"Flow again": from the fault until the first checkout sent after it reached CONFIRMED or REJECTED.
Lost, duplicates and version gaps are counted over the whole log so far (each check reads it from the start), so one found in an early scenario is counted again in every later row.

| scenario | fault | checkouts flow again | longest gap between outcomes | acknowledged orders / reservations | retried | failed | lost | duplicates | oversold | version gaps |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`,
  );
}
