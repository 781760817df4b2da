// Rebuilding read models from the log, with the services running.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { inventorySettings, type InventorySettings } from '../../services/inventory/config.ts';
import { inventoryRoutes } from '../../services/inventory/http/routes.ts';
import { inventoryReadModels } from '../../services/inventory/read-models.ts';
import { newId, toHeaders } from '../../services/platform/headers.ts';
import { readPointer } from '../../services/platform/projections/store.ts';
import { createApi } from '../../services/platform/runtime/api.ts';
import type { ServiceDefinition } from '../../services/platform/runtime/service.ts';
import { topicsFor, type Topics } from '../../services/topics.ts';
import { createCodec } from '../../services/platform/schemas/codec.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call } from '../support/http.ts';
import { kafkaFor } from '../support/kafka.ts';
import { startInProcess } from '../support/services.ts';
import { createSellable, placeOrder, settle, startSystem, type System } from '../support/system.ts';

function rebuild(env: TestEnvironment, dataDir: string, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/rebuild.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TOPIC_PREFIX: env.prefix, DATA_DIR: dataDir },
    timeout: 120_000,
  });
}

describe('projection rebuild', function () {
  this.timeout(300_000);
  let env: TestEnvironment;
  let system: System;
  let variants: string[];
  let productId: string;

  before(async () => {
    env = await provision('rebuild');
    system = await startSystem(env.prefix);
    // Mixed traffic through all three services.
    const created = await createSellable(system, 'Rebuild kit', [
      { sku: 'RB-1', price: 12, initialStock: 40 },
      { sku: 'RB-2', price: 7.5, initialStock: 3 },
    ]);
    variants = created.variantIds;
    productId = created.productId;
    const orders = await Promise.all([
      placeOrder(system, 'ana', [{ variantId: variants[0]!, quantity: 2 }]),
      placeOrder(system, 'ben', [
        { variantId: variants[0]!, quantity: 1 },
        { variantId: variants[1]!, quantity: 5 },
      ]),
      placeOrder(system, 'cy', [{ variantId: variants[1]!, quantity: 2 }]),
      placeOrder(system, 'di', [{ variantId: variants[0]!, quantity: 3 }]),
    ]);
    const settled = await Promise.all(orders.map((o) => settle(system, o.body.orderId)));
    await call(system.order.base, 'POST', `/api/v1/orders/${settled[0]!.orderId}/pay`);
    await call(system.order.base, 'POST', `/api/v1/orders/${settled[2]!.orderId}/cancel`);
    await call(system.order.base, 'POST', `/api/v1/orders/${settled[0]!.orderId}/return`, { items: [{ variantId: variants[0], quantity: 1 }] });
    await call(system.product.base, 'PUT', `/api/v1/products/${productId}/variants/${variants[1]}/price`, { price: 8 });
    await call(system.inventory.base, 'POST', '/api/v1/inventory/adjust-stock', { productVariantId: variants[0], changeType: 'RESTOCK', quantity: 10 });
    await eventually(async () => expect((await call(system.inventory.base, 'GET', `/api/v1/reports/stock-movements?productVariantId=${variants[0]}`)).body).to.have.length(3));
  });
  after(async () => {
    await system?.stop();
    await env.close();
  });

  it('rebuilds every projection of every service, passing --verify with no difference', async () => {
    for (const [service, started] of Object.entries({ inventory: system.inventory, product: system.product, order: system.order })) {
      const result = rebuild(env, started.dataDir, service, '--verify');
      expect(result.status, `${service}: ${result.stdout}${result.stderr}`).to.equal(0);
      const verdicts = result.stdout.split('\n').filter((l) => l.includes('verify:'));
      expect(verdicts.length, `${service} projections verified`).to.be.greaterThan(2);
      expect(
        verdicts.every((l) => l.includes('no differences')),
        result.stdout,
      ).to.equal(true);
    }
    // The services switched to the rebuilt files and still answer.
    await eventually(async () => expect(readPointer(system.inventory.storeDir, 'inventory', 'stock')!.file).to.match(/rebuild/));
    expect((await call(system.product.base, 'GET', `/api/v1/products/${productId}`)).status).to.equal(200);
  });

  it('--verify reports every difference between the rebuilt and the live model', async () => {
    const pointer = readPointer(system.inventory.storeDir, 'inventory', 'movements')!;
    const live = new Database(path.join(system.inventory.storeDir, 'inventory', pointer.file));
    live.prepare(`UPDATE movements SET delta = delta + 100 WHERE variant_id = ? AND change_type = 'RESTOCK'`).run(variants[0]);
    live.close();
    const result = rebuild(env, system.inventory.dataDir, 'inventory', 'movements', '--verify');
    expect(result.status, result.stdout + result.stderr).to.equal(3);
    expect(result.stdout).to.contain('movements: live 3 rows');
    expect(result.stdout).to.match(/difference in movements at \["[^"]+",\d+\]: live \{.*"delta":110.*\}, rebuilt \{.*"delta":10.*\}/);
    expect(result.stdout).to.contain('verify: 1 difference(s)');
  });

  it('serves every GET throughout a rebuild and its swap', async () => {
    const paths = [
      `/api/v1/inventory/${variants[0]}`,
      `/api/v1/inventory?productVariantIds=${variants.join(',')}`,
      '/api/v1/reports/inventory-value',
      `/api/v1/reports/stock-movements?productVariantId=${variants[0]}`,
    ];
    const expected = await Promise.all(paths.map(async (p) => (await call(system.inventory.base, 'GET', p)).body));
    const before = readPointer(system.inventory.storeDir, 'inventory', 'stock')!.file;
    const failures: string[] = [];
    let requests = 0;
    let running = true;
    const client = (async () => {
      while (running) {
        for (const [i, p] of paths.entries()) {
          const res = await call(system.inventory.base, 'GET', p);
          requests++;
          if (res.status !== 200) failures.push(`${p}: ${res.status}`);
          else if (JSON.stringify(res.body) !== JSON.stringify(expected[i])) failures.push(`${p}: changed to ${JSON.stringify(res.body).slice(0, 200)}`);
        }
      }
    })();
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/rebuild.ts', 'inventory'], {
      env: { ...process.env, TOPIC_PREFIX: env.prefix, DATA_DIR: system.inventory.dataDir },
      stdio: 'ignore',
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).to.equal(0);
    await eventually(async () => {
      const ready = await call(system.inventory.base, 'GET', '/health/ready');
      expect(ready.status).to.equal(200);
      expect(readPointer(system.inventory.storeDir, 'inventory', 'stock')!.file).to.not.equal(before);
    });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // past the swap, and past the old files' removal
    running = false;
    await client;
    expect(failures).to.deep.equal([]);
    expect(requests).to.be.greaterThan(20);
  });

  it('refuses a topic whose beginning retention deleted, before touching anything', async () => {
    const other = await provision('rebuild-truncated');
    try {
      const codec = await createCodec({ registryUrl: other.config.schemaRegistryUrl, writes: [other.topics.productEvents] });
      const producer = kafkaFor(other.config).producer({ idempotent: true });
      await producer.connect();
      const value = codec.encode(other.topics.productEvents, {
        type: 'ProductCreated',
        data: { productId: 'p', version: 1, occurredAt: 1, name: 'x', description: null, category: null, currency: 'EUR' },
      });
      const headers = toHeaders({ id: newId(), type: 'commerce.product.ProductCreated', source: 'test', time: 1, correlationId: 'c' });
      await producer.send({
        topic: other.topics.productEvents.name,
        acks: -1,
        messages: [
          { key: 'p', value, headers },
          { key: 'p', value, headers },
        ],
      });
      await producer.disconnect();
      // What time-based retention does to a partition's beginning, at once.
      // (kafkajs finds the leader in metadata it only holds for topics it was asked about.)
      await other.admin.fetchTopicMetadata({ topics: [other.topics.productEvents.name] });
      await other.admin.deleteTopicRecords({ topic: other.topics.productEvents.name, partitions: [{ partition: 0, offset: '1' }] });
      const dataDir = fs.mkdtempSync(path.join('/tmp', 'rebuild-truncated-'));
      const result = rebuild(other, dataDir, 'product', 'catalogue');
      expect(result.status).to.equal(1);
      expect(result.stderr.trim()).to.equal(
        `rebuild: the log no longer starts at offset 0 (retention deleted its beginning): ${other.topics.productEvents.name}[0] starts at offset 1; cannot rebuild catalogue; nothing was changed`,
      );
      expect(fs.readdirSync(dataDir)).to.deep.equal([]);
    } finally {
      await other.close();
    }
  });
});

describe('projection rebuild when killed, and on a version change', function () {
  this.timeout(300_000);
  let env: TestEnvironment;

  /** Enough inventory events that a rebuild takes a while. */
  async function fill(count: number) {
    const codec = await createCodec({ registryUrl: env.config.schemaRegistryUrl, writes: [env.topics.inventoryEvents] });
    const producer = kafkaFor(env.config).producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < count; i += 2000) {
      const messages = await Promise.all(
        Array.from({ length: Math.min(2000, count - i) }, async (_, j) => {
          const n = i + j;
          const variant = `bulk-${n % 500}`;
          const version = Math.floor(n / 500) + 1;
          const data =
            version === 1
              ? {
                  type: 'InventoryRecordInitialized' as const,
                  data: {
                    productVariantId: variant,
                    version,
                    occurredAt: n,
                    productId: 'p',
                    sku: variant,
                    lowStockThreshold: 2,
                    quantity: 10_000,
                    reservedQuantity: 0,
                    availableQuantity: 10_000,
                    status: 'IN_STOCK' as const,
                  },
                }
              : {
                  type: 'StockLevelChanged' as const,
                  data: {
                    productVariantId: variant,
                    version,
                    occurredAt: n,
                    changeType: 'RESTOCK' as const,
                    delta: 1,
                    reservationId: null,
                    orderId: null,
                    reason: null,
                    quantity: 10_000 + version - 1,
                    reservedQuantity: 0,
                    availableQuantity: 10_000 + version - 1,
                    status: 'IN_STOCK' as const,
                  },
                };
          return {
            key: variant,
            value: codec.encode(env.topics.inventoryEvents, data),
            headers: toHeaders({ id: newId(), type: `commerce.inventory.${data.type}`, source: 'test', time: n, correlationId: 'c' }),
          };
        }),
      );
      await producer.send({ topic: env.topics.inventoryEvents.name, acks: -1, messages });
    }
    await producer.disconnect();
  }

  before(async () => {
    env = await provision('rebuild-kill');
    await fill(60_000);
  });
  after(() => env.close());

  it('leaves the live model untouched when killed halfway, and a rerun succeeds', async () => {
    const inventory = await startInProcess({ ...inventoryApiOnly(inventoryReadModels) }, env.prefix);
    try {
      const before = readPointer(inventory.storeDir, 'inventory', 'movements')!;
      const answer = (await call(inventory.base, 'GET', '/api/v1/inventory/bulk-7')).body;
      expect(answer.quantity).to.be.greaterThan(10_000);
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/rebuild.ts', 'inventory'], {
        env: { ...process.env, TOPIC_PREFIX: env.prefix, DATA_DIR: inventory.dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      await eventually(() => expect(fs.readdirSync(path.join(inventory.storeDir, 'inventory')).some((f) => /rebuild-\d+\.sqlite$/.test(f))).to.equal(true), 30_000, 20);
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
      expect(output).to.not.contain('swapped in');
      expect(readPointer(inventory.storeDir, 'inventory', 'movements')).to.deep.equal(before);
      expect((await call(inventory.base, 'GET', '/api/v1/inventory/bulk-7')).body).to.deep.equal(answer);
      const leftovers = fs.readdirSync(path.join(inventory.storeDir, 'inventory')).filter((f) => /rebuild-\d+\.sqlite$/.test(f));
      expect(leftovers.length).to.be.greaterThan(0);

      const rerun = rebuild(env, inventory.dataDir, 'inventory', '--verify');
      expect(rerun.status, rerun.stdout + rerun.stderr).to.equal(0);
      expect(rerun.stdout).to.not.contain('DIFFERENT');
      const remaining = fs.readdirSync(path.join(inventory.storeDir, 'inventory')).filter((f) => /rebuild-\d+\.sqlite$/.test(f));
      for (const f of leftovers) expect(remaining, 'leftovers of the killed rebuild removed').to.not.include(f);
      await eventually(async () => expect((await call(inventory.base, 'GET', '/api/v1/inventory/bulk-7')).body).to.deep.equal(answer));
    } finally {
      await inventory.stop();
    }
  });

  it('rebuilds a projection whose version changed on start, serving the old one meanwhile, then swaps it in', async () => {
    const first = await startInProcess(inventoryApiOnly(inventoryReadModels), env.prefix);
    const dataDir = first.dataDir;
    const answer = (await call(first.base, 'GET', '/api/v1/inventory/bulk-3')).body;
    await first.stop();
    const version = inventoryReadModels(env.topics).find((p) => p.name === 'stock')!.version;
    const bumped = (topics: Parameters<typeof inventoryReadModels>[0]) => inventoryReadModels(topics).map((p) => (p.name === 'stock' ? { ...p, version: version + 1 } : p));
    const second = await startInProcess(inventoryApiOnly(bumped), env.prefix, { DATA_DIR: dataDir });
    try {
      // The old database answers at once; the new version appears behind the pointer when caught up.
      expect((await call(second.base, 'GET', '/api/v1/inventory/bulk-3')).body).to.deep.equal(answer);
      const failures: number[] = [];
      await eventually(
        async () => {
          const res = await call(second.base, 'GET', '/api/v1/inventory/bulk-3');
          if (res.status !== 200) failures.push(res.status);
          expect(readPointer(second.storeDir, 'inventory', 'stock')!.version).to.equal(version + 1);
        },
        120_000,
        50,
      );
      expect(failures).to.deep.equal([]);
      expect((await call(second.base, 'GET', '/api/v1/inventory/bulk-3')).body).to.deep.equal(answer);
      const files = fs.readdirSync(path.join(second.storeDir, 'inventory')).filter((f) => f.startsWith('stock.v'));
      await eventually(() => expect(fs.readdirSync(path.join(second.storeDir, 'inventory')).filter((f) => f.startsWith(`stock.v${version}.`))).to.deep.equal([]), 15_000);
      expect(files.some((f) => f.startsWith(`stock.v${version + 1}.`))).to.equal(true);
    } finally {
      await second.stop();
    }
  });
});

/** Inventory's read models and HTTP API alone, with the read models given. */
function inventoryApiOnly(readModels: typeof inventoryReadModels): ServiceDefinition<InventorySettings, Topics> {
  return {
    name: 'inventory',
    topics: topicsFor,
    settings: inventorySettings,
    writes: (topics) => [topics.inventoryCommands],
    components: (context, settings) =>
      createApi(context, {
        port: settings.port,
        projections: readModels(context.topics),
        routes: (deps) => inventoryRoutes({ topics: context.topics, ...deps }),
      }).components,
  };
}
