// CloudEvents-style metadata carried in Kafka headers (the CloudEvents Kafka
// binding's binary mode): ce_id, ce_type, ce_source, ce_time, plus the
// correlation id that ties a request's whole story together, the causation id
// (the message that caused this one), and, for a command's outcome events,
// their position in the outcome so a waiter knows when it has seen all of it.
// W3C trace context rides beside them as `traceparent`/`tracestate` (the
// names OpenTelemetry's Kafka instrumentations use), present while tracing is on.
import crypto from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import type { TraceContext } from './tracing/spans.ts';

export interface MessageMetadata {
  id: string;
  /** Namespaced record name, e.g. commerce.inventory.StockReserved. */
  type: string;
  source: string;
  /** Epoch milliseconds. */
  time: number;
  correlationId: string;
  causationId?: string;
  /** 0-based position among the events one command produced, and their count. */
  outcome?: { index: number; count: number };
  /** The span this message continues (tracing/spans.ts). */
  trace?: TraceContext;
}

export const HEADER = {
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  specVersion: 'ce_specversion',
  correlationId: 'ce_correlationid',
  causationId: 'ce_causationid',
  outcomeIndex: 'ce_outcomeindex',
  outcomeCount: 'ce_outcomecount',
  contentType: 'content-type',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

export function newId(): string {
  return crypto.randomUUID();
}

export function toHeaders(meta: MessageMetadata): IHeaders {
  const headers: IHeaders = {
    [HEADER.specVersion]: '1.0',
    [HEADER.id]: meta.id,
    [HEADER.type]: meta.type,
    [HEADER.source]: meta.source,
    [HEADER.time]: new Date(meta.time).toISOString(),
    [HEADER.correlationId]: meta.correlationId,
    [HEADER.contentType]: 'application/avro',
  };
  if (meta.causationId) headers[HEADER.causationId] = meta.causationId;
  if (meta.outcome) {
    headers[HEADER.outcomeIndex] = String(meta.outcome.index);
    headers[HEADER.outcomeCount] = String(meta.outcome.count);
  }
  if (meta.trace) {
    headers[HEADER.traceparent] = meta.trace.traceparent;
    if (meta.trace.tracestate) headers[HEADER.tracestate] = meta.trace.tracestate;
  }
  return headers;
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined || value === null) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** Metadata from headers; tolerant of messages written by other producers. */
export function fromHeaders(headers: IHeaders | undefined, fallbackTime: number): MessageMetadata {
  const time = Date.parse(headerText(headers, HEADER.time) ?? '');
  const index = headerText(headers, HEADER.outcomeIndex);
  const count = headerText(headers, HEADER.outcomeCount);
  const causationId = headerText(headers, HEADER.causationId);
  const id = headerText(headers, HEADER.id) ?? '';
  const traceparent = headerText(headers, HEADER.traceparent);
  const tracestate = headerText(headers, HEADER.tracestate);
  return {
    id,
    type: headerText(headers, HEADER.type) ?? '',
    source: headerText(headers, HEADER.source) ?? '',
    time: Number.isFinite(time) ? time : fallbackTime,
    correlationId: headerText(headers, HEADER.correlationId) ?? id,
    ...(causationId ? { causationId } : {}),
    ...(index !== undefined && count !== undefined ? { outcome: { index: Number(index), count: Number(count) } } : {}),
    ...(traceparent ? { trace: { traceparent, ...(tracestate ? { tracestate } : {}) } } : {}),
  };
}

/** What a message caused by `cause` inherits: its correlation, its id as causation, and its trace. */
export function causedBy(cause: MessageMetadata): Pick<MessageMetadata, 'correlationId' | 'causationId' | 'trace'> {
  return { correlationId: cause.correlationId, causationId: cause.id, ...(cause.trace ? { trace: cause.trace } : {}) };
}
