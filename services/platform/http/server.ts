// A service's HTTP server: its declared routes, health, metrics and OpenAPI,
// JSON errors everywhere, a correlation id on every request and response.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { OPEN_ACCESS, type Identity, type TokenVerifier } from './auth.ts';
import { HttpError } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { compileRoute, type Route, type RouteResponse } from './route.ts';
import { routeTable, type TableEntry } from './route-table.ts';
import { requestSpan } from './request-span.ts';
import type { StreamRoute } from './stream-route.ts';

/** A request's correlation id, which correlationIdOf set (given if safe, else new): always a string. */
const requestId = (req: { id?: unknown }): string => (typeof req.id === 'string' ? req.id : '');

export const CORRELATION_HEADER = 'x-correlation-id';

export interface Readiness {
  ready: boolean;
  reasons: string[];
  /** Where the read models are in the log: topic -> partition -> next offset. */
  positions?: Record<string, Record<string, string>>;
}

export interface HttpServerOptions {
  service: string;
  port: number;
  host?: string;
  logger: Logger;
  metrics: Metrics;
  routes: Route[];
  /** Server-sent event streams, authenticated and scoped as routes are. */
  streams?: StreamRoute[];
  readiness(): Promise<Readiness> | Readiness;
  /** Fails only when the process must be restarted. */
  liveness?(): { live: boolean; reason?: string };
  bodyLimit?: string;
  /** Verifies bearer tokens on every route (health, metrics and OpenAPI stay open). */
  auth?: TokenVerifier;
  /** Writes one identity may make per minute. */
  writesPerMinute?: number;
  /** How long requests in flight may take to finish once stopping. */
  drainMs?: number;
  /** Serve HTTPS with this PEM certificate and key (config.http.tls); plain HTTP without. */
  tls?: { certFile: string; keyFile: string };
}

export interface HttpServer {
  app: express.Express;
  start(): Promise<void>;
  stop(): Promise<void>;
  port(): number;
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A broker-side failure (kafkajs names its errors KafkaJS*), not a bug in the request or the code. */
function isLogUnavailable(error: unknown): boolean {
  for (let e = error as { name?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.name === 'string' && e.name.startsWith('KafkaJS')) return true;
  }
  return false;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  // No ETag: hashing every answer costs each read, and no client here makes conditional requests.
  app.set('etag', false);
  app.set('trust proxy', false);

  // Once stopping, every answer closes its connection, so clients that keep
  // connections alive come back on a new one, which is refused.
  let stopping = false;
  app.use((_req, res, next) => {
    if (stopping) res.setHeader('connection', 'close');
    next();
  });
  // Every request gets a correlation id (given, if safe, else new), echoed back.
  const correlationIdOf = (req: Request, res: Response) => {
    const given = req.headers[CORRELATION_HEADER];
    const id = typeof given === 'string' && SAFE_ID.test(given) ? given : crypto.randomUUID();
    res.setHeader(CORRELATION_HEADER, id);
    return id;
  };
  const logRequests = pinoHttp({
    logger,
    genReqId: correlationIdOf,
    customAttributeKeys: { reqId: 'correlationId' },
    customProps: (req) => ({ correlationId: requestId(req) }),
    autoLogging: { ignore: (req) => req.url === '/metrics' || req.url?.startsWith('/health') === true },
    serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }), res: (res: { statusCode: number }) => ({ status: res.statusCode }) },
  });
  // Writes are logged at info; reads only at debug. A read is a few hundred
  // microseconds of work and pino-http's per-request logger was a third of it
  // (measured), so a read that is not logged does not pay for it.
  app.use((req, res, next) => {
    if (req.method !== 'GET' || logger.isLevelEnabled('debug')) return logRequests(req, res, next);
    req.id = correlationIdOf(req, res);
    next();
  });
  const parseJson = express.json({ limit: options.bodyLimit ?? '64kb', strict: true });
  app.use((req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? next() : parseJson(req, res, next)));

  app.get('/health/live', (_req, res) => {
    const live = options.liveness?.() ?? { live: true };
    res.status(live.live ? 200 : 503).json({ status: live.live ? 'live' : 'dead', ...(live.reason ? { reason: live.reason } : {}) });
  });
  app.get('/health/ready', async (_req, res) => {
    const r = await options.readiness();
    res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ready' : 'not-ready', reasons: r.reasons, ...(r.positions ? { positions: r.positions } : {}) });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.render());
  });
  const streams = options.streams ?? [];
  const document = openApiDocument(options.service, '1.0.0', options.routes, streams);
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });

  const verifier = options.auth ?? OPEN_ACCESS;
  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    const known = verifier.known?.(req.headers.authorization);
    if (known) {
      res.locals.identity = known;
      return next();
    }
    // A failure (401) rejects the promise, which express passes to the error handler.
    return verifier.authenticate(req.headers.authorization).then((identity) => {
      res.locals.identity = identity;
      next();
    });
  };
  // Per identity, after authentication, so one caller's burst cannot starve the
  // others; and per end customer where a route names one (Route.rateLimitKey),
  // so a storefront serving every customer is not capped as if it were one.
  const limitKey = (res: Response) => {
    const subject = (res.locals.identity as Identity).subject;
    const key = res.locals.rateLimitKey as string | undefined;
    return { subject, key, id: key === undefined ? subject : `${subject}\u0000${key}` };
  };
  const limitWrites = rateLimit({
    windowMs: 60_000,
    limit: options.writesPerMinute ?? 1200,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (_req, res) => limitKey(res).id,
    handler: (_req, res) => {
      const { subject, key } = limitKey(res);
      const perMinute = options.writesPerMinute ?? 1200;
      res.status(429).json({
        error: 'RATE_LIMITED',
        message: `'${subject}' made more than ${perMinute} writes in a minute${key === undefined ? '' : ` for ${key}`}; retry after ${String(res.getHeader('retry-after') ?? 60)}s`,
      });
    },
  });

  const table: TableEntry[] = [];
  for (const r of options.routes) {
    const handle = compileRoute(r);
    // One histogram child per status, made once rather than looked up per request.
    const byStatus = new Map<number, { observe(seconds: number): void }>();
    const duration = (status: number) => {
      let child = byStatus.get(status);
      if (!child) byStatus.set(status, (child = metrics.httpDuration.labels(r.method.toUpperCase(), r.path, String(status))));
      return child;
    };
    const timed = (_req: Request, res: Response, next: NextFunction) => {
      const started = process.hrtime.bigint();
      res.once('finish', () => duration(res.statusCode).observe(Number(process.hrtime.bigint() - started) / 1e9));
      next();
    };
    const keyed = (req: Request, res: Response, next: NextFunction) => {
      res.locals.rateLimitKey = r.rateLimitKey?.(req);
      next();
    };
    // Straight to node's response rather than express's res.json: its content
    // negotiation and freshness checks were a tenth of a read (measured), and an
    // API answer needs neither.
    const answer = (res: Response, result: RouteResponse) => {
      if (result.headers) for (const [k, v] of Object.entries(result.headers)) res.setHeader(k, v);
      res.statusCode = result.status;
      if (result.body === undefined) return res.end();
      const json = JSON.stringify(result.body);
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('content-length', Buffer.byteLength(json));
      res.end(json);
    };
    const respond = (req: Request, res: Response) => {
      const result = handle(req, res, requestId(req), res.locals.identity as Identity);
      // A promise returned here fails to the error handler.
      if (result instanceof Promise) return result.then((r) => answer(res, r));
      answer(res, result);
    };
    table.push({ method: r.method, path: r.path, chain: [timed, requestSpan(r.method, r.path), authenticate, ...(r.method === 'get' ? [] : [keyed, limitWrites]), respond] });
  }
  // Streams stay open: they are ended when the server stops, so that their
  // clients reconnect (elsewhere) instead of holding the stop for drainMs.
  const openStreams = new Set<Response>();
  for (const s of streams) {
    const respond = (req: Request, res: Response) => {
      s.open(req, res, requestId(req), res.locals.identity as Identity);
      if (!res.headersSent || res.writableEnded) return;
      // A HEAD request gets the stream's headers, and no stream.
      if (req.method === 'HEAD' || stopping) return void res.end();
      openStreams.add(res);
      res.once('close', () => openStreams.delete(res));
    };
    // Not timed: a stream's duration is its client's business, not a latency.
    table.push({ method: 'get', path: s.path, chain: [authenticate, respond] });
  }
  app.use(routeTable(table));

  const knownPaths = [...options.routes, ...streams.map((s) => ({ method: 'get', path: s.path }))].map((r) => ({
    method: r.method,
    pattern: new RegExp(`^${r.path.replace(/:[A-Za-z0-9_]+/g, '[^/]+')}/?$`),
  }));
  app.use((req: Request, res: Response) => {
    const sameResource = knownPaths.filter((p) => p.pattern.test(req.path));
    if (sameResource.length > 0) {
      res.setHeader('allow', sameResource.map((p) => p.method.toUpperCase()).join(', '));
      res.status(405).json({ error: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed on ${req.path}` });
      return;
    }
    res.status(404).json({ error: 'NOT_FOUND', message: `no route for ${req.method} ${req.path}` });
  });

  // Express recognises error handlers by their four parameters.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = error as { type?: string; status?: number; message?: string; expose?: boolean };
    if (error instanceof HttpError) {
      for (const [k, v] of Object.entries(error.headers)) res.setHeader(k, v);
      res.status(error.status).json({ error: error.code, message: error.message, ...error.details });
    } else if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'MALFORMED_JSON', message: 'the request body is not valid JSON' });
    } else if (e.type === 'entity.too.large') {
      res.status(413).json({ error: 'PAYLOAD_TOO_LARGE', message: `the request body exceeds ${options.bodyLimit ?? '64kb'}` });
    } else if (isLogUnavailable(error)) {
      // The command was not appended (or its fate is unknown): the client may
      // retry, safely where it sent an idempotency key.
      req.log?.warn({ err: error }, 'event log unavailable');
      res.setHeader('retry-after', '5');
      res.status(503).json({ error: 'LOG_UNAVAILABLE', message: 'the event log cannot be reached right now; retry later', correlationId: requestId(req) });
    } else if (e.expose && e.status && e.status < 500) {
      res.status(e.status).json({ error: 'BAD_REQUEST', message: e.message ?? 'bad request' });
    } else {
      req.log?.error({ err: error }, 'request failed');
      res.status(500).json({ error: 'INTERNAL', message: 'internal error', correlationId: requestId(req) });
    }
  });

  let server: Server | undefined;
  return {
    app,
    start() {
      return new Promise((resolve, reject) => {
        // New connections are dear on a busy process: libuv accepts one per
        // event-loop iteration, so a burst of them waits in the accept queue
        // (measured in the flash-sale benchmark: at 600 orders/s, 2,700 queued
        // connections, some accepted 20 s late; with node's default queue of
        // 511, overflows retried by the client's SYN 1, 3, 7 s later).
        // Connections are kept, so callers (a storefront's pool, a load
        // balancer) reuse them: idle for longer than a load balancer's own
        // timeout (60 s on AWS's), so the server never closes one the
        // balancer is about to use; and a deep accept queue for the bursts.
        const settings = { keepAliveTimeout: 65_000, headersTimeout: 66_000 };
        const { tls } = options;
        server = tls ? createTlsServer({ ...settings, cert: fs.readFileSync(tls.certFile), key: fs.readFileSync(tls.keyFile) }, app) : createServer(settings, app);
        server.listen({ port: options.port, host: options.host ?? '127.0.0.1', backlog: 4096 });
        server.once('listening', () => resolve());
        server.once('error', reject);
      });
    },
    stop() {
      return new Promise((resolve) => {
        if (!server) return resolve();
        // Stops accepting at once; lets requests in flight finish, within a bound.
        stopping = true;
        server.close(() => resolve());
        for (const res of openStreams) res.end();
        server.closeIdleConnections();
        setTimeout(() => server?.closeAllConnections(), options.drainMs ?? 10_000).unref();
      });
    },
    port() {
      const address = server?.address();
      return typeof address === 'object' && address ? address.port : options.port;
    },
  };
}
