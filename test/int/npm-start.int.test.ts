// `npm start` as a user runs it: it comes up, serves a checkout, and on SIGTERM
// stops every process it started.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { uniquePrefix } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call, freePort } from '../support/http.ts';

function descendants(pid: number): number[] {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of rows)
      if (ppid === parent && child !== undefined) {
        found.push(child);
        walk(child);
      }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', function () {
  this.timeout(240_000);

  it('runs the whole system, prints tokens that work, takes an order, and stops everything on SIGTERM', async () => {
    const ports = { product: await freePort(), inventory: await freePort(), order: await freePort() };
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'npm-start-'));
    // As a user runs it: no verification key of the test run's, so npm start uses (or makes) its local one.
    const { AUTH_PUBLIC_KEY_FILE: _key, INVENTORY_API_TOKEN: _token, ...userEnv } = process.env;
    const child = spawn('npm', ['start'], {
      env: {
        ...userEnv,
        TOPIC_PREFIX: uniquePrefix('npm-start'),
        DATA_DIR: dataDir,
        PRODUCT_PORT: String(ports.product),
        INVENTORY_PORT: String(ports.inventory),
        ORDER_PORT: String(ports.order),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      await eventually(() => expect(output).to.contain('commerce-core is running'), 180_000, 250);
      expect(output).to.contain(`http://127.0.0.1:${ports.order}/api/v1/orders`);
      const product = `http://127.0.0.1:${ports.product}`;
      const order = `http://127.0.0.1:${ports.order}`;
      const printed = (identity: string) => ({ authorization: `Bearer ${new RegExp(`${identity} .*\\n\\s+(ey[\\w.-]+)`).exec(output)?.[1]}` });
      // A token signed with another key (the test run's) is refused; the printed ones work, within their scopes.
      expect((await call(product, 'GET', '/api/v1/products')).status).to.equal(401);
      expect((await call(product, 'POST', '/api/v1/products', { name: 'x', currency: 'EUR', variants: [{ sku: 'X', price: 1 }] }, printed('storefront'))).status).to.equal(403);
      const created = await call(product, 'POST', '/api/v1/products', { name: 'Start test', currency: 'EUR', variants: [{ sku: 'START-1', price: 3, initialStock: 4 }] }, printed('admin'));
      expect(created.status).to.equal(201);
      const variantId = created.body.variants[0].id;
      const placed = await eventually(
        async () => {
          const p = await call(order, 'POST', '/api/v1/orders', { customerId: 'starter', items: [{ variantId, quantity: 2 }] }, { 'idempotency-key': 'start-1', ...printed('storefront') });
          expect(p.status, JSON.stringify(p.body)).to.equal(202);
          return p;
        },
        30_000,
        200,
      );
      const settled = await call(order, 'GET', `/api/v1/orders/${placed.body.orderId}?waitFor=CONFIRMED,REJECTED&timeoutMs=20000`, undefined, printed('storefront'));
      expect(settled.body.status).to.equal('CONFIRMED');

      const started = descendants(child.pid!);
      expect(started.length, 'npm start runs its services as processes').to.be.at.least(3);
      child.kill('SIGTERM');
      // npm forwards the signal to the script, then re-raises it on itself.
      const { code, signal } = await exited;
      expect(code === 0 || signal === 'SIGTERM', `npm exited with ${code ?? signal}`).to.equal(true);
      await eventually(() => expect(output).to.contain('[start] stopped'), 40_000);
      await eventually(() => expect(started.filter(alive), 'processes left behind').to.deep.equal([]), 10_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const pid of descendants(child.pid!)) process.kill(pid, 'SIGKILL');
    }
  });
});
