// What operators see, on the real broker with the services as separate
// processes: Prometheus metrics on every service (and on a processor-only
// instance), health, and one correlation id that finds a request's whole story
// in the structured logs of all three services.
import { expect } from 'chai';
import { startChild, type ChildService } from '../support/child-service.ts';
import { startChildSystem, type ChildSystem } from '../support/child-system.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call, freePort } from '../support/http.ts';

interface LogLine {
  component?: string;
  msg: string;
  correlationId?: string;
  correlationIds?: string[];
  command?: string;
  [k: string]: unknown;
}

function logLines(child: ChildService): LogLine[] {
  return child
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** Value of one sample in Prometheus text format, matched by name and a label subset. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf('}') + 1));
  }
  return undefined;
}

describe('metrics, health and correlated logs (three services as processes)', function () {
  this.timeout(240_000);
  let env: TestEnvironment;
  const children: ChildService[] = [];
  let system: ChildSystem;
  let base: ChildSystem['base'];
  let services: ChildSystem['services'];

  before(async () => {
    env = await provision('observe');
    // Writes wait for their outcome as long as the test does: every answer here is a decided one, never 202.
    system = await startChildSystem('observe', { TOPIC_PREFIX: env.prefix, COMMAND_TIMEOUT_MS: '60000' });
    ({ base, services } = system);
  });
  after(async () => {
    await system?.stop();
    await Promise.all(children.map((c) => c.kill('SIGTERM')));
    await env.close();
  });

  it("finds a checkout's whole story by its correlation id, and counts it in every service's metrics", async () => {
    const created = await call(base.product, 'POST', '/api/v1/products', { name: 'Traced lamp', currency: 'EUR', variants: [{ sku: 'TL-1', price: 12.5, initialStock: 10 }] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const variantId = created.body.variants[0].id;
    await eventually(async () => expect((await call(base.product, 'GET', `/api/v1/products/${created.body.id}`)).body.variants[0].status).to.equal('ACTIVE'), 30_000);

    const correlationId = `trace-${Date.now()}`;
    // Priced by the product service's answer, whether or not the order service's copy has the variant yet.
    const order = await call(
      base.order,
      'POST',
      '/api/v1/orders',
      { customerId: 'traced', items: [{ variantId, quantity: 2 }] },
      { 'idempotency-key': correlationId, 'x-correlation-id': correlationId },
    );
    expect(order.status, JSON.stringify(order.body)).to.equal(202);
    expect(order.headers.get('x-correlation-id')).to.equal(correlationId);
    const settled = await call(base.order, 'GET', `/api/v1/orders/${order.body.orderId}?waitFor=CONFIRMED,REJECTED&timeoutMs=20000`);
    expect(settled.body.status).to.equal('CONFIRMED');

    // The story, service by service: the request, each command decided, each
    // event translated into another service's command, and the read models.
    await eventually(() => {
      const story = (child: ChildService) => logLines(child).filter((l) => l.correlationId === correlationId || l.correlationIds?.includes(correlationId));
      const order = story(services.order);
      const inventory = story(services.inventory);
      const product = story(services.product);
      expect(
        order.some((l) => l.component === 'http' && l.msg === 'request completed'),
        'order: the HTTP request',
      ).to.equal(true);
      expect(
        order.some((l) => l.component === 'processor' && l.command === 'PlaceOrder'),
        'order: the command decided',
      ).to.equal(true);
      expect(
        order.some((l) => l.component === 'processor' && l.command === 'RecordReservationOutcome'),
        "order: inventory's answer decided",
      ).to.equal(true);
      expect(
        order.some((l) => l.component === 'read-models' && l.msg === 'events applied'),
        'order: the read models',
      ).to.equal(true);
      expect(
        inventory.some((l) => l.component === 'processor' && l.command === 'ReserveStock'),
        'inventory: the reservation decided',
      ).to.equal(true);
      expect(
        inventory.some((l) => l.component === 'read-models' && l.msg === 'events applied'),
        'inventory: the read models',
      ).to.equal(true);
      expect(
        product.some((l) => l.component === 'read-models' && l.msg === 'events applied'),
        'product: its stock view',
      ).to.equal(true);
    }, 30_000);

    // Metrics: a few samples from each family the dashboard draws.
    await eventually(async () => {
      const inventory = (await call(base.inventory, 'GET', '/metrics')).body as string;
      expect(sample(inventory, 'reservation_outcomes_total', { outcome: 'reserved' })).to.be.at.least(1);
      expect(sample(inventory, 'commands_decided_total', { aggregate: 'inventory', command: 'ReserveStock', outcome: 'accepted' })).to.be.at.least(1);
      expect(sample(inventory, 'command_outcome_latency_seconds_count', { aggregate: 'inventory' })).to.be.at.least(1);
      expect(sample(inventory, 'messages_handled_total', { handler: 'processor:inventory', outcome: 'ok' })).to.be.at.least(2);
      expect(sample(inventory, 'message_batch_handling_seconds_count', { handler: 'processor:inventory' })).to.be.at.least(1);
      expect(sample(inventory, 'message_age_at_handling_seconds_count', { handler: 'projection:stock' })).to.be.at.least(1);
      expect(sample(inventory, 'kafka_consumer_group_lag', { group: `${env.prefix}inventory-processor`, partition: '0' })).to.equal(0);
      expect(sample(inventory, 'kafka_consumer_group_lag', { group: 'inventory-read-models' })).to.equal(0);
      expect(sample(inventory, 'projection_position', { projection: 'stock' })).to.be.a('number');
      expect(sample(inventory, 'kafka_log_end_offset', { topic: env.topics.inventoryEvents.name })).to.be.a('number');
      expect(sample(inventory, 'kafka_broker_reachable', {})).to.equal(1);
      const order = (await call(base.order, 'GET', '/metrics')).body as string;
      expect(sample(order, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/orders', status: '202' })).to.equal(1);
      expect(sample(order, 'commands_decided_total', { aggregate: 'order', command: 'RecordReservationOutcome', outcome: 'accepted' })).to.be.at.least(1);
      const product = (await call(base.product, 'GET', '/metrics')).body as string;
      expect(sample(product, 'commands_decided_total', { aggregate: 'product', command: 'CreateProduct', outcome: 'accepted' })).to.equal(1);
      // The HTTP write that created it waited for its outcome, and got it.
      expect(sample(product, 'command_request_seconds_count', { outcome: 'accepted' })).to.equal(1);
      expect(sample(product, 'command_request_seconds_count', { outcome: 'pending' })).to.equal(undefined);
      expect(sample(product, 'process_resident_memory_bytes', {})).to.be.greaterThan(0);
    }, 20_000);

    for (const url of Object.values(base)) {
      const live = await call(url, 'GET', '/health/live');
      expect(live.status).to.equal(200);
      expect(live.body).to.deep.equal({ status: 'live' });
    }
  });

  it('serves health and metrics from a processor-only instance on METRICS_PORT', async () => {
    const port = await freePort();
    const processor = startChild('services/inventory/main.ts', { TOPIC_PREFIX: env.prefix, SERVICE_ROLES: 'processor', METRICS_PORT: String(port) }, 'observe-processor');
    children.push(processor);
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => expect((await call(url, 'GET', '/health/ready')).status).to.equal(200), 60_000);
    // Lag comes from the lag monitor's checks, the first of which may still be under way.
    await eventually(async () => {
      const metrics = (await call(url, 'GET', '/metrics')).body as string;
      expect(sample(metrics, 'kafka_broker_reachable', {})).to.equal(1);
      expect(metrics).to.match(/kafka_consumer_group_lag\{group="[^"]*inventory-processor"/);
    }, 20_000);
    expect((await call(url, 'GET', '/api/v1/inventory/x')).status).to.equal(404);
  });
});
