// An HTTP server for unit tests: the platform's own, on a free port, silent,
// always ready; a test gives its routes and whatever else it is about.
import { createHttpServer, type HttpServer, type HttpServerOptions } from '../../services/platform/http/server.ts';
import { createLogger } from '../../services/platform/logger.ts';
import { createMetrics } from '../../services/platform/metrics.ts';

export function unitServer(options: Pick<HttpServerOptions, 'routes'> & Partial<HttpServerOptions>): HttpServer {
  return createHttpServer({ service: 'unit', port: 0, logger: createLogger('unit', 'silent'), metrics: createMetrics('unit'), readiness: () => ({ ready: true, reasons: [] }), ...options });
}
