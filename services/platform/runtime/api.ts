// The query-and-command face of a service (its "api" role): read models kept
// by a projection runner, HTTP routes over them, and command requests answered
// once the read models have applied their outcome.
import { createTokenVerifier } from '../http/auth.ts';
import { createCommandRequests, type CommandRequests } from '../http/command-request.ts';
import type { Route } from '../http/route.ts';
import { createHttpServer, type HttpServer } from '../http/server.ts';
import type { StreamRoute } from '../http/stream-route.ts';
import { createCommandSender } from '../messaging/command-sender.ts';
import { createOutcomeWaiters } from '../projections/outcome-waiters.ts';
import type { ProjectedEvent, Projection } from '../projections/projection.ts';
import { partitionKey, topicPartitionOf, type PartitionKey } from '../projections/partition-key.ts';
import { createProjectionRunner, type ProjectionRunner } from '../projections/runner.ts';
import type { Component, ServiceContext } from './service.ts';

export interface ApiDeps {
  read: ProjectionRunner;
  commands: CommandRequests;
}

export interface ApiOptions {
  port: number;
  projections: Projection[];
  routes(deps: ApiDeps): Route[];
  /** Server-sent event streams (live updates), served with the routes' authentication and scopes. */
  streams?(deps: ApiDeps): StreamRoute[];
  /** How long a write waits for its outcome before answering 202. */
  commandTimeoutMs?: number;
  /** Sees every event once the read models have applied it (and may read them). */
  onEvent?: (event: ProjectedEvent, read: ProjectionRunner) => void;
}

export interface Api {
  components: Component[];
  read: ProjectionRunner;
  http: HttpServer;
}

export function createApi(context: ServiceContext, options: ApiOptions): Api {
  const { kafka, codec, config, logger, metrics, health, service } = context;
  const waiters = createOutcomeWaiters();
  const sender = createCommandSender(kafka, codec, service);
  const { onEvent } = options;
  const readLogger = logger.child({ component: 'read-models' });
  // What watches events (long-polls, live updates) must not stop the read models.
  const observe =
    onEvent &&
    ((event: ProjectedEvent) => {
      try {
        onEvent(event, read);
      } catch (error) {
        readLogger.warn({ err: error, topic: event.topic, type: event.type }, 'an event watcher failed');
      }
    });
  const read: ProjectionRunner = createProjectionRunner({
    kafka,
    codec,
    service,
    topicPrefix: config.topicPrefix,
    dataDir: config.dataDir,
    projections: options.projections,
    logger: readLogger,
    waiters,
    ...(observe ? { onEvent: observe } : {}),
    metrics,
    health,
  });
  metrics.beforeScrape(() => {
    const behind = new Map<PartitionKey, number>(); // the furthest behind projection, per partition
    for (const p of read.progress()) {
      metrics.projectionPosition.set({ projection: p.projection, topic: p.topic, partition: String(p.partition) }, Number(p.position));
      const k = partitionKey(p.topic, p.partition);
      behind.set(k, Math.max(behind.get(k) ?? 0, Number(p.end - p.position)));
    }
    for (const [k, lag] of behind) {
      const { topic, partition } = topicPartitionOf(k);
      metrics.consumerLag.set({ group: `${service}-read-models`, topic, partition: String(partition) }, Math.max(0, lag));
    }
  });
  const timeout = options.commandTimeoutMs ?? config.commandTimeoutMs;
  const commands = createCommandRequests(sender, waiters, { timeoutMs: timeout, maxOutstanding: config.maxOutstandingCommands, late: config.lateCommands, metrics });
  const http = createHttpServer({
    service,
    port: options.port,
    host: config.httpHost,
    logger: logger.child({ component: 'http' }),
    metrics,
    routes: options.routes({ read, commands }),
    streams: options.streams?.({ read, commands }) ?? [],
    auth: createTokenVerifier(config.http.auth),
    writesPerMinute: config.http.writesPerMinute,
    ...(config.http.tls ? { tls: config.http.tls } : {}),
    liveness: () => health.liveness(),
    readiness: () => {
      const reasons = [...(read.caughtUp() ? [] : ['read models are catching up with the log']), ...health.notReadyReasons()];
      const positions: Record<string, Record<string, string>> = {};
      for (const [k, offset] of read.positions()) {
        const { topic, partition } = topicPartitionOf(k);
        (positions[topic] ??= {})[partition] = String(offset);
      }
      return { ready: reasons.length === 0, reasons, positions };
    },
  });
  return {
    read,
    http,
    components: [
      {
        name: 'read-models',
        role: 'api',
        start: () => read.start(),
        stop: () => read.stop(),
        consumes: [...new Set(options.projections.flatMap((p) => p.topics.map((t) => t.name)))].map((topic) => ({ topic })),
      },
      { name: 'command-sender', role: 'api', start: () => sender.connect(), stop: () => sender.disconnect() },
      { name: 'http', role: 'api', start: () => http.start(), stop: () => http.stop() },
    ],
  };
}
