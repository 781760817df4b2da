// The faults a Kafka deployment meets every week, on the real broker: a deploy
// (SIGTERM under load), a broker restart in the middle of a load, and a
// schema registry outage.
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { startBroker } from '../../scripts/embedded/broker.ts';
import { stop } from '../../scripts/embedded/processes.ts';
import { startRegistry } from '../../scripts/embedded/registry.ts';
import { READINESS_BOUND_MS } from '../../services/platform/runtime/health.ts';
import type { SentCommand } from '../../services/platform/messaging/command-sender.ts';
import { createCodec, type Codec } from '../../services/platform/schemas/codec.ts';
import type { InventoryEvents } from '../../schemas/generated/inventory.events.ts';
import type { OrderEvents } from '../../schemas/generated/order.events.ts';
import { isEmbedded, provision, type TestEnvironment } from '../support/environment.ts';
import { readEvents, type Recorded } from '../support/events.ts';
import { eventually } from '../support/eventually.ts';
import { call, freePort } from '../support/http.ts';
import { allAnswered, commandStream, initialStock, useInventoryHarness, VARIANTS, verifyOutcomes } from '../support/inventory-stream.ts';
import { createSellable, placeOrder, settle, startSystem, stock, type System } from '../support/system.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SIGTERM under load (inventory as a separate process)', function () {
  this.timeout(240_000);
  const h = useInventoryHarness('sigterm');

  it('stops taking requests, commits the batch in hand, leaves its group and exits in time, losing nothing', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const start = (name: string) => h.startInventory(name, { INVENTORY_PORT: String(port) });
    const sent: SentCommand[] = await h.sender.sendMany(h.env.topics.inventoryCommands, initialStock(200));
    const first = start('sigterm-first');
    await eventually(async () => expect((await call(base, 'GET', '/health/ready')).status).to.equal(200), 60_000);
    for (const variant of VARIANTS) await eventually(async () => expect((await call(base, 'GET', `/api/v1/inventory/${variant}`)).status).to.equal(200), 30_000);

    // Load: commands straight onto the log, and reservations over HTTP.
    let streaming = true;
    const stream = commandStream(3000, 3);
    const producing = (async () => {
      for (let i = 0; i < stream.length && streaming; i += 50) {
        sent.push(...(await h.sender.sendMany(h.env.topics.inventoryCommands, stream.slice(i, i + 50))));
        await sleep(50);
      }
    })();
    const answers: { reservationId: string; status: number | 'refused' }[] = [];
    const clients = Array.from({ length: 4 }, (_, c) =>
      (async () => {
        for (let i = 0; streaming; i++) {
          const reservationId = `http-${c}-${i}`;
          try {
            const res = await call(base, 'POST', `/api/v1/inventory/${VARIANTS[i % VARIANTS.length]}/reserve`, { reservationId, quantity: 1, ttlSeconds: 3600 });
            answers.push({ reservationId, status: res.status });
          } catch {
            answers.push({ reservationId, status: 'refused' }); // connection refused: the server stopped accepting
            await sleep(100);
          }
        }
      })(),
    );

    await sleep(2500);
    const signalled = Date.now();
    const exitCode = await first.kill('SIGTERM');
    const tookMs = Date.now() - signalled;
    expect(exitCode, first.output().slice(-3000)).to.equal(0);
    expect(tookMs, 'exit within the bound').to.be.below(20_000);
    for (const component of ['http', 'processor', 'read-models']) expect(first.output()).to.match(new RegExp(`"component":"${component}".*"msg":"stopped"`));
    // While it stops, a request gets an answer or a refused connection, never a server error.
    expect(answers.filter((a) => typeof a.status === 'number' && a.status >= 500)).to.deep.equal([]);

    // Its successor picks up where it left off.
    start('sigterm-second');
    streaming = false;
    await Promise.all([producing, ...clients]);
    const events = await readEvents(h.env.config, h.codec, h.env.topics.inventoryEvents, allAnswered(sent), 120_000);
    verifyOutcomes(sent, events);
    // Every reservation the API accepted (200, 202, 409) was decided exactly once.
    const decided = new Map<string, number>();
    for (const e of events) if (e.type === 'StockReserved' || e.type === 'ReservationRejected') decided.set(e.data.reservationId, (decided.get(e.data.reservationId) ?? 0) + 1);
    const accepted = answers.filter((a) => a.status === 200 || a.status === 202 || a.status === 409);
    const statuses = answers.reduce<Record<string, number>>((n, a) => ({ ...n, [a.status]: (n[a.status] ?? 0) + 1 }), {});
    expect(accepted.length, JSON.stringify(statuses)).to.be.greaterThan(10);
    expect(accepted.filter((a) => decided.get(a.reservationId) !== 1).map((a) => a.reservationId)).to.deep.equal([]);
  });
});

(isEmbedded() ? describe : describe.skip)('broker restart and registry outage (three services, embedded stack)', function () {
  this.timeout(300_000);
  let env: TestEnvironment;
  let system: System;
  let codec: Codec;

  before(async () => {
    env = await provision('faults');
    // The outage here (a graceful broker stop, then a restart) can outlast the
    // default 30 s saga bound, which would rightly reject orders: give sagas
    // longer, so that every acknowledged order must confirm.
    system = await startSystem(env.prefix, { ORDER_SAGA_TIMEOUT_MS: '300000' });
    codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [] });
  });
  after(async () => {
    // Whatever happened, leave the shared stack running for the suites after this one.
    await startBroker(() => {});
    await startRegistry(() => {});
    await system?.stop();
    await env.close();
  });

  it('recovers by itself from a broker restart in the middle of a load, losing no acknowledged write', async () => {
    const { variantIds } = await createSellable(system, 'Restart kit', [
      { sku: 'RK-1', price: 5, initialStock: 500 },
      { sku: 'RK-2', price: 7, initialStock: 500 },
    ]);
    const accepted = new Map<string, number>(); // orderId -> units
    let placing = true;
    // A client that retries with the same Idempotency-Key until the order is accepted.
    const client = (async () => {
      for (let i = 0; placing || i < 40; i++) {
        const key = `restart-${i}`;
        const items = [{ variantId: variantIds[i % 2]!, quantity: 1 + (i % 3) }];
        for (;;) {
          const res = await placeOrder(system, 'restart-customer', items, key).catch(() => undefined);
          if (res && (res.status === 201 || res.status === 202)) {
            accepted.set(res.body.orderId, items[0]!.quantity);
            break;
          }
          if (res) expect(res.status, JSON.stringify(res.body)).to.equal(503);
          await sleep(500);
        }
        await sleep(100);
      }
    })();

    await sleep(2000);
    try {
      await stop('kafka', 60_000);
      // The bound a load balancer relies on: readiness is judged from when the
      // cluster last answered, so it flips within READINESS_BOUND_MS of the
      // broker going away, however busy the machine. (Polled every 100 ms; a
      // poll that starts after the bound must see 503.)
      const notReady = await Promise.all(
        [system.inventory, system.product, system.order].map((s) =>
          eventually(async () => {
            const ready = await call(s.base, 'GET', '/health/ready');
            expect(ready.status, `${s.service.context.service} readiness`).to.equal(503);
            expect(ready.body.reasons.join(' ')).to.match(/Kafka cluster (cannot be reached|has not answered)/);
            return ready.body;
          }, READINESS_BOUND_MS + 1_000),
        ),
      );
      expect(notReady).to.have.length(3);
      // Liveness holds: a broker outage is no reason to restart the process.
      for (const s of [system.inventory, system.product, system.order]) expect((await call(s.base, 'GET', '/health/live')).status).to.equal(200);
      await sleep(3000);
    } finally {
      await startBroker(() => {});
      placing = false;
      await client;
    }

    for (const s of [system.inventory, system.product, system.order]) {
      await eventually(async () => expect((await call(s.base, 'GET', '/health/ready')).status).to.equal(200), 90_000);
    }
    // Every acknowledged order is in the log exactly once and completes.
    const confirmedAll = (es: Recorded<OrderEvents>[]) => [...accepted.keys()].every((id) => es.some((e) => e.type === 'OrderConfirmed' && e.data.orderId === id));
    const orderEvents = await readEvents(env.config, codec, env.topics.orderEvents, confirmedAll, 120_000).catch(async (error: Error) => {
      // Say which orders did not confirm, and what became of them.
      const seen = await readEvents(env.config, codec, env.topics.orderEvents, () => true, 10_000);
      const stories = [...accepted.keys()]
        .filter((id) => !seen.some((e) => e.type === 'OrderConfirmed' && e.data.orderId === id))
        .map(
          (id) =>
            `${id}: ${
              seen
                .filter((e) => (e.data as { orderId?: string }).orderId === id)
                .map((e) => `${e.type}${e.type === 'OrderRejected' ? ` (${(e.data as { reason: string }).reason})` : ''}`)
                .join(', ') || 'no event'
            }`,
        );
      throw new Error(`${error.message}; not confirmed: ${stories.join('; ')}`);
    });
    for (const id of accepted.keys())
      expect(
        orderEvents.filter((e) => e.type === 'OrderCreated' && e.data.orderId === id),
        id,
      ).to.have.length(1);
    // The read models converge on the log.
    let units = 0;
    for (const [id, quantity] of accepted) {
      expect((await settle(system, id)).status).to.equal('CONFIRMED');
      units += quantity;
    }
    await eventually(async () => {
      const reserved = (await stock(system, variantIds[0]!)).reservedQuantity + (await stock(system, variantIds[1]!)).reservedQuantity;
      expect(reserved).to.equal(units);
    }, 30_000);
    const inventoryEvents = await readEvents(env.config, codec, env.topics.inventoryEvents, () => true, 30_000);
    const reservations = inventoryEvents.filter((e: Recorded<InventoryEvents>) => e.type === 'StockReserved').map((e) => (e.data as { reservationId: string }).reservationId);
    expect(new Set(reservations).size, 'no reservation twice').to.equal(reservations.length);
  });

  it('keeps consuming through a registry outage; a service cannot start without it and says why', async () => {
    const { variantIds } = await createSellable(system, 'Outage kit', [{ sku: 'OK-1', price: 3, initialStock: 50 }]);
    const warm = await placeOrder(system, 'outage-customer', [{ variantId: variantIds[0]!, quantity: 1 }]);
    expect((await settle(system, warm.body.orderId)).status).to.equal('CONFIRMED');

    await stop('registry', 20_000);
    try {
      // Producers hold their schema ids and consumers the schemas they have read.
      const during = await placeOrder(system, 'outage-customer', [{ variantId: variantIds[0]!, quantity: 2 }]);
      expect(during.status, JSON.stringify(during.body)).to.be.oneOf([201, 202]);
      expect((await settle(system, during.body.orderId)).status).to.equal('CONFIRMED');
      expect((await stock(system, variantIds[0]!)).reservedQuantity).to.equal(3);

      // A service that has never resolved its schemas fails fast, with the reason.
      const started = Date.now();
      const child = spawn(process.execPath, ['--import', 'tsx', 'services/inventory/main.ts'], {
        env: { ...process.env, TOPIC_PREFIX: env.prefix, INVENTORY_PORT: String(await freePort()), LOG_LEVEL: 'error' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).to.equal(1);
      expect(Date.now() - started, 'fails fast').to.be.below(60_000);
      expect(stderr).to.match(/^inventory: could not start: schema registry at http:\/\/127\.0\.0\.1:8081\/apis\/ccompat\/v7 did not answer for subject /m);
    } finally {
      await startRegistry(() => {});
    }
  });
});
