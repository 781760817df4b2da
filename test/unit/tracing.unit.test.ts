// Tracing's machinery without Kafka, against an in-memory exporter: when it is
// on, the trace context a request or message carries is the parent of the span
// that handles it, and what that handling writes carries the new span on; when
// it is off, nothing is made and no header is touched.
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { expect } from 'chai';
import type { KafkaMessage } from 'kafkajs';
import { route } from '../../services/platform/http/route.ts';
import type { HttpServer } from '../../services/platform/http/server.ts';
import { unitServer } from '../support/unit-server.ts';
import { causedBy, fromHeaders, toHeaders, type MessageMetadata } from '../../services/platform/headers.ts';
import { tracingConfigured } from '../../services/platform/tracing/sdk.ts';
import { consumeSpans, end, inCommitSpan, inProduceSpan, setTracingEnabled, startApplySpans, traceOf, type TraceContext } from '../../services/platform/tracing/spans.ts';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register(); // the global provider, W3C propagator and async context, as sdk-node sets them up

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const incoming: TraceContext = { traceparent: `00-${TRACE}-${PARENT}-01` };
const spanIdOf = (t: TraceContext | undefined) => t?.traceparent.split('-')[2];
const finished = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

function message(offset: number, trace?: TraceContext): KafkaMessage {
  const meta: MessageMetadata = { id: `m${offset}`, type: 't', source: 'test', time: 0, correlationId: `c${offset}`, ...(trace ? { trace } : {}) };
  return { key: null, value: null, offset: String(offset), timestamp: '0', attributes: 0, headers: toHeaders(meta) };
}

describe('tracing', () => {
  describe('is configured by the standard OTEL_* variables, and off unless they ask', () => {
    const cases: [NodeJS.ProcessEnv, boolean][] = [
      [{}, false],
      [{ OTEL_SERVICE_NAME: 'x' }, false],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
      [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
      [{ OTEL_TRACES_EXPORTER: 'console' }, true],
      [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }, false],
    ];
    for (const [env, on] of cases) it(`${JSON.stringify(env)} -> ${on ? 'on' : 'off'}`, () => expect(tracingConfigured(env)).to.equal(on));
  });

  describe('while off', () => {
    before(() => setTracingEnabled(false));
    beforeEach(() => exporter.reset());

    it('makes no span and leaves messages as they came', async () => {
      const messages = [message(1, incoming)];
      const consumed = consumeSpans('t', 0, 'g', messages);
      expect(consumed.messages).to.equal(messages);
      expect(traceOf()).to.equal(undefined);
      expect(await inProduceSpan('t', 'c', async () => traceOf())).to.equal(undefined);
      expect(startApplySpans('p', 't', 0, [{ offset: 1n, meta: fromHeaders(messages[0]!.headers, 0) }])).to.deep.equal([]);
      expect(exporter.getFinishedSpans()).to.deep.equal([]);
    });
  });

  describe('while on', () => {
    let server: HttpServer;
    let base: string;
    let seenInHandler: TraceContext | undefined;

    before(async () => {
      setTracingEnabled(true);
      server = unitServer({
        routes: [
          route({
            method: 'post',
            path: '/api/v1/things/:id',
            scope: 'inventory:admin',
            summary: 'send a command',
            responses: { 202: 'sent' },
            // As a route does: send a command, whose headers would carry traceOf().
            handle: async () => {
              seenInHandler = await inProduceSpan('things.commands', 'c1', async () => traceOf());
              return { status: 202, body: {} };
            },
          }),
        ],
      });
      await server.start();
      base = `http://127.0.0.1:${server.port()}`;
    });
    after(async () => {
      await server.stop();
      setTracingEnabled(false);
    });
    beforeEach(() => exporter.reset());

    it("parents a request's span on its traceparent, and the command it sends on the request", async () => {
      const res = await fetch(`${base}/api/v1/things/a1`, { method: 'POST', headers: { traceparent: incoming.traceparent, 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).to.equal(202);
      await new Promise((resolve) => setTimeout(resolve, 20)); // the span ends when the response closes
      const [request] = finished('POST /api/v1/things/:id');
      const [send] = finished('send things.commands');
      expect(request!.kind).to.equal(SpanKind.SERVER);
      expect(request!.spanContext().traceId).to.equal(TRACE);
      expect(parentOf(request!)).to.equal(PARENT);
      expect(request!.attributes).to.include({ 'http.route': '/api/v1/things/:id', 'http.response.status_code': 202 });
      expect(send!.kind).to.equal(SpanKind.PRODUCER);
      expect(parentOf(send!)).to.equal(request!.spanContext().spanId);
      // The command's headers name the send span: its consumer's span will be a child of it.
      expect(spanIdOf(seenInHandler)).to.equal(send!.spanContext().spanId);
    });

    it("gives each consumed message a span under its producer's, and hands on messages that carry the new span", async () => {
      const consumed = consumeSpans('inventory.commands', 3, 'inventory-processor', [message(7, incoming), message(8)]);
      const handedOn = consumed.messages.map((m) => fromHeaders(m.headers, 0));
      // What the handler writes inherits the processing span, not the producer's.
      const outcome = toHeaders({ id: 'e1', type: 'e', source: 's', time: 0, ...causedBy(handedOn[0]!) });
      expect(fromHeaders(outcome, 0).trace).to.deep.equal(handedOn[0]!.trace);
      await inCommitSpan('inventory.commands', 3, consumed, 1, async () => {});
      for (const span of consumed.spans) end(span);

      const [first, second] = finished('process inventory.commands');
      const [commit] = finished('commit inventory.commands');
      expect(first!.kind).to.equal(SpanKind.CONSUMER);
      expect(parentOf(first!)).to.equal(PARENT);
      expect(first!.attributes).to.include({
        'messaging.destination.name': 'inventory.commands',
        'messaging.destination.partition.id': '3',
        'messaging.kafka.offset': 7,
        'commerce.correlation_id': 'c7',
      });
      expect(spanIdOf(handedOn[0]!.trace)).to.equal(first!.spanContext().spanId);
      // A message without trace context starts a trace of its own.
      expect(parentOf(second!)).to.equal(undefined);
      expect(second!.spanContext().traceId).to.not.equal(TRACE);
      // The transaction hangs under the first message and links them all.
      expect(parentOf(commit!)).to.equal(first!.spanContext().spanId);
      expect(commit!.links.map((l) => l.context.spanId)).to.deep.equal([first!.spanContext().spanId, second!.spanContext().spanId]);
      expect(commit!.attributes).to.include({ 'messaging.batch.message_count': 2, 'commerce.records_written': 1 });
    });

    it('applies each event in a span under the span that wrote it, failed when the batch failed', () => {
      const [ok, bad] = startApplySpans('orders', 'order.events', 0, [
        { offset: 1n, meta: fromHeaders(message(1, incoming).headers, 0) },
        { offset: 2n, meta: fromHeaders(message(2, incoming).headers, 0) },
      ]);
      end(ok);
      end(bad, new Error('constraint failed'));
      const [applied, failed] = finished('apply orders');
      expect(parentOf(applied!)).to.equal(PARENT);
      expect(applied!.status.code).to.equal(0);
      expect(failed!.status).to.deep.include({ code: 2, message: 'constraint failed' });
    });
  });
});
