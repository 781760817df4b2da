// The spans this platform makes, and the W3C trace context that joins them
// across processes: an HTTP request's span is the parent of the command it
// sends; the command's `traceparent` header is the parent of the span that
// processes it; whatever that processing writes (events, commands to other
// aggregates) carries the processing span's context in turn, and so on through
// translators, the saga and the projections. One checkout is one trace.
//
// While tracing is off (the default), nothing here allocates a span or touches
// a header: each helper returns at its first line.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_KAFKA_OFFSET,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '@opentelemetry/semantic-conventions/incubating';
import { HEADER } from '../headers.ts';

let enabled = false;
export const tracer = trace.getTracer('commerce-core');

export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

export function tracingEnabled(): boolean {
  return enabled;
}

/** The attribute every span carries: what ties it to the request's whole story in the logs. */
export const ATTR_CORRELATION_ID = 'commerce.correlation_id';

/** W3C trace context as it travels in HTTP and Kafka headers. */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

/** A context's span as W3C headers (the active span's, by default), to stamp on a message. */
export function traceOf(ctx: Context = context.active()): TraceContext | undefined {
  if (!enabled) return undefined;
  const carrier: Partial<TraceContext> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ? { traceparent: carrier.traceparent, ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}) } : undefined;
}

/** The context to parent a span on, from W3C headers (an HTTP request's, a message's). */
export function contextFrom(carrier: object | undefined): Context {
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier, { get: (c, key) => text(Reflect.get(c, key)), keys: (c) => Object.keys(c) }) : ROOT_CONTEXT;
}

function text(value: unknown): string | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : Buffer.isBuffer(first) ? first.toString() : undefined;
}

function kafkaAttributes(topic: string, partition: number, extra: Attributes = {}): Attributes {
  return { [ATTR_MESSAGING_SYSTEM]: 'kafka', [ATTR_MESSAGING_DESTINATION_NAME]: topic, [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(partition), ...extra };
}

/** Runs `work` in a new span (child of `parent`, or of the active span); the span ends with its outcome. */
async function inSpan<T>(name: string, options: { kind?: SpanKind; attributes?: Attributes; parent?: Context; links?: Link[] }, work: (span?: Span) => Promise<T>): Promise<T> {
  if (!enabled) return work();
  const span = tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links }, options.parent ?? context.active());
  try {
    const result = await context.with(trace.setSpan(options.parent ?? context.active(), span), () => work(span));
    return result;
  } catch (error) {
    fail(span, error);
    throw error;
  } finally {
    span.end();
  }
}

export function end(span: Span | undefined, error?: unknown): void {
  if (!span) return;
  if (error !== undefined) fail(span, error);
  span.end();
}

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

export interface ConsumedSpans<M> {
  /** The messages, each with its processing span's `traceparent` in place of its producer's. */
  messages: M[];
  spans: (Span | undefined)[];
  /** Links to every message's span, for a span that covers them all (the transaction). */
  links: Link[];
  /** The first message's span context: the parent of a span that covers them all. */
  parent: Context;
}

type Consumed = { offset: string; headers?: Record<string, unknown> };

function consumeSpan(name: string, topic: string, partition: number, group: string, message: Consumed): Span {
  return tracer.startSpan(
    name,
    {
      kind: SpanKind.CONSUMER,
      attributes: kafkaAttributes(topic, partition, {
        [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
        [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: group,
        [ATTR_MESSAGING_KAFKA_OFFSET]: Number(message.offset),
        [ATTR_CORRELATION_ID]: text(message.headers?.[HEADER.correlationId]) ?? '',
      }),
    },
    contextFrom(message.headers),
  );
}

/**
 * A CONSUMER span per consumed message, parented on the context its headers
 * carry; the message handed on carries the new span's context, so whatever is
 * derived from it (outcome events, commands elsewhere) continues the trace.
 */
export function consumeSpans<M extends Consumed>(topic: string, partition: number, group: string, messages: M[]): ConsumedSpans<M> {
  if (!enabled) return { messages, spans: [], links: [], parent: ROOT_CONTEXT };
  const spans: Span[] = [];
  const traced = messages.map((message) => {
    const span = consumeSpan(`process ${topic}`, topic, partition, group, message);
    spans.push(span);
    const own = traceOf(trace.setSpan(ROOT_CONTEXT, span));
    return own ? { ...message, headers: { ...message.headers, ...own } } : message;
  });
  return {
    messages: traced,
    spans,
    links: spans.map((s) => ({ context: s.spanContext() })),
    parent: spans[0] ? trace.setSpan(ROOT_CONTEXT, spans[0]) : ROOT_CONTEXT,
  };
}

/** Handles one consumed message inside its CONSUMER span (active while `work` runs, so what it sends continues the trace). */
export async function inConsumeSpan<T>(topic: string, partition: number, group: string, message: Consumed, work: () => Promise<T>): Promise<T> {
  if (!enabled) return work();
  const span = consumeSpan(`process ${topic}`, topic, partition, group, message);
  try {
    return await context.with(trace.setSpan(ROOT_CONTEXT, span), work);
  } catch (error) {
    fail(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** A span per event a projection applies (ended by the caller once the batch's rows committed, or failed). */
export function startApplySpans(projection: string, topic: string, partition: number, events: { offset: bigint; meta: { correlationId: string; trace?: TraceContext } }[]): Span[] {
  if (!enabled) return [];
  return events.map((event) =>
    tracer.startSpan(
      `apply ${projection}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: kafkaAttributes(topic, partition, {
          [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
          [ATTR_MESSAGING_KAFKA_OFFSET]: Number(event.offset),
          [ATTR_CORRELATION_ID]: event.meta.correlationId,
          'commerce.projection': projection,
        }),
      },
      contextFrom(event.meta.trace),
    ),
  );
}

/** A chunk's transaction (its records, its offsets, the commit) as one span, under the first message's span and linked to all. */
export function inCommitSpan<T>(topic: string, partition: number, consumed: ConsumedSpans<unknown>, records: number, work: () => Promise<T>): Promise<T> {
  if (!enabled) return work(); // before the name and attributes: this runs once per transaction
  const attributes = kafkaAttributes(topic, partition, { [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: consumed.spans.length, 'commerce.records_written': records });
  return inSpan(`commit ${topic}`, { parent: consumed.parent, links: consumed.links, attributes }, work);
}

/** Sends inside a PRODUCER span, so the headers `work` stamps (traceOf()) name it as the parent of whoever consumes. */
export function inProduceSpan<T>(topic: string, correlationId: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!enabled) return work(); // before the name and attributes: this runs once per command sent
  return inSpan(
    `send ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [ATTR_MESSAGING_SYSTEM]: 'kafka',
        [ATTR_MESSAGING_DESTINATION_NAME]: topic,
        [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
        ...(correlationId ? { [ATTR_CORRELATION_ID]: correlationId } : {}),
      },
    },
    work,
  );
}
