// Distributed tracing across the three services as separate processes: each
// exports OTLP/JSON to an in-memory receiver in this process, and one checkout
// (place, reserve per line, confirm) must come back as one connected trace,
// parented on the storefront's own traceparent.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { startChildSystem, type ChildSystem } from '../support/child-system.ts';
import { provision, type TestEnvironment } from '../support/environment.ts';
import { eventually } from '../support/eventually.ts';
import { call } from '../support/http.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

describe('distributed tracing (three services as processes, OTLP to an in-memory receiver)', function () {
  this.timeout(240_000);
  let env: TestEnvironment;
  let receiver: OtlpReceiver;
  let system: ChildSystem;
  let base: ChildSystem['base'];

  before(async () => {
    receiver = await startOtlpReceiver();
    env = await provision('tracing');
    system = await startChildSystem('tracing', {
      TOPIC_PREFIX: env.prefix,
      COMMAND_TIMEOUT_MS: '60000',
      // Only the standard variables: endpoint, protocol, and a short export delay so the test need not wait 5 s.
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    base = system.base;
  });
  after(async () => {
    await system?.stop();
    await env?.close();
    await receiver?.close();
  });

  it('follows one checkout from the storefront through all three services as one trace', async () => {
    const created = await call(base.product, 'POST', '/api/v1/products', {
      name: 'Traced tent',
      currency: 'EUR',
      variants: [
        { sku: 'TT-1', price: 80, initialStock: 5 },
        { sku: 'TT-PEG', price: 1, initialStock: 50 },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const [a, b] = (created.body.variants as { id: string }[]).map((v) => v.id);
    await eventually(
      async () => expect((await call(base.product, 'GET', `/api/v1/products/${created.body.id}`)).body.variants.map((v: { status: string }) => v.status)).to.deep.equal(['ACTIVE', 'ACTIVE']),
      30_000,
    );

    // The storefront's own span: the checkout's trace starts there.
    const traceId = crypto.randomBytes(16).toString('hex');
    const clientSpanId = crypto.randomBytes(8).toString('hex');
    const correlationId = `traced-${Date.now()}`;
    const placed = await call(
      base.order,
      'POST',
      '/api/v1/orders',
      {
        customerId: 'tracer',
        items: [
          { variantId: a, quantity: 1 },
          { variantId: b, quantity: 4 },
        ],
      },
      { traceparent: `00-${traceId}-${clientSpanId}-01`, 'idempotency-key': correlationId, 'x-correlation-id': correlationId },
    );
    expect(placed.status, JSON.stringify(placed.body)).to.equal(202);
    const settled = await call(base.order, 'GET', `/api/v1/orders/${placed.body.orderId}?waitFor=CONFIRMED,REJECTED&timeoutMs=20000`);
    expect(settled.body.status).to.equal('CONFIRMED');

    const topic = (name: string) => `${env.prefix}${name}`;
    let trace: ReceivedSpan[] = [];
    await eventually(() => {
      trace = receiver.spans.filter((s) => s.traceId === traceId);
      const named = (service: string, name: string, kind?: number) => trace.filter((s) => s.service === service && s.name === name && (kind === undefined || s.kind === kind));
      expect([...new Set(trace.map((s) => s.service))].sort(), 'services in the trace').to.deep.equal(['inventory', 'order', 'product']);
      // The request, parented on the storefront's span.
      const request = named('order', 'POST /api/v1/orders', SERVER);
      expect(request, 'the HTTP span').to.have.length(1);
      expect(request[0]!.parentSpanId).to.equal(clientSpanId);
      expect(request[0]!.attributes['http.response.status_code']).to.equal(202);
      // Place: the command sent, processed and committed by the order processor.
      expect(named('order', `send ${topic('order.commands')}`, PRODUCER), 'PlaceOrder sent').to.have.length(1);
      expect(named('order', `process ${topic('order.commands')}`, CONSUMER).length, 'order commands processed (place, each outcome)').to.be.at.least(3);
      expect(named('order', `commit ${topic('order.commands')}`).length, 'their transactions').to.be.at.least(1);
      // Reserve, once per line, in the inventory processor.
      expect(named('inventory', `process ${topic('inventory.commands')}`, CONSUMER), 'one reservation per line').to.have.length(2);
      expect(named('inventory', `commit ${topic('inventory.commands')}`).length).to.be.at.least(1);
      // Confirm, and the read models of every service applying what the checkout wrote.
      for (const service of ['order', 'inventory', 'product'])
        expect(
          trace.some((s) => s.service === service && s.name.startsWith('apply ')),
          `${service} read models`,
        ).to.equal(true);
      // One trace: every span hangs from the storefront's span through spans of the trace.
      const ids = new Set(trace.map((s) => s.spanId));
      const orphans = trace.filter((s) => s.parentSpanId !== clientSpanId && !ids.has(s.parentSpanId ?? ''));
      expect(
        orphans.map((s) => `${s.service}: ${s.name}`),
        'spans whose parent is not in the trace',
      ).to.deep.equal([]);
    }, 30_000);
    // Every message span names the checkout's correlation id, but the price
    // lookup's: one lookup may serve many orders (services/order/product-details.ts).
    const messageSpans = trace.filter((s) => s.kind === CONSUMER && s.name !== `process ${topic('product.details.requests')}`);
    expect(
      messageSpans.filter((s) => s.attributes['commerce.correlation_id'] !== correlationId).map((s) => `${s.service}: ${s.name} ${String(s.attributes['commerce.correlation_id'])}`),
    ).to.deep.equal([]);
  });
});
