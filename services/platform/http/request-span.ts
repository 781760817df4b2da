// The SERVER span of one API request, parented on the caller's W3C
// `traceparent` when it sends one; the route's handler runs inside it, so the
// command it sends (messaging/command-sender.ts) continues the same trace.
import type { NextFunction, Request, Response } from 'express';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import { ATTR_CORRELATION_ID, contextFrom, tracer, tracingEnabled } from '../tracing/spans.ts';

/** Middleware for one route (`path` as declared, e.g. /api/v1/orders/:orderId); passes straight on while tracing is off. */
export function requestSpan(method: string, path: string) {
  const name = `${method.toUpperCase()} ${path}`;
  return (req: Request, res: Response, next: NextFunction) => {
    if (!tracingEnabled()) return next();
    const parent = contextFrom(req.headers);
    const span = tracer.startSpan(
      name,
      {
        kind: SpanKind.SERVER,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_HTTP_ROUTE]: path, [ATTR_URL_PATH]: req.path, [ATTR_CORRELATION_ID]: typeof req.id === 'string' ? req.id : '' },
      },
      parent,
    );
    res.once('close', () => {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
