// Running a service: configuration, clients, its components (processor,
// translators, projections, HTTP) started in order and stopped in reverse on
// SIGTERM or SIGINT within a bound. SERVICE_ROLES (comma-separated) runs only
// some components, so a role can be scaled or killed on its own.
import type { Kafka } from 'kafkajs';
import { readPlatformConfig, type PlatformConfig } from '../config.ts';
import { createEnvReader, type EnvReader } from '../env.ts';
import { createKafka } from '../kafka/client.ts';
import { createLogger, type Logger } from '../logger.ts';
import { createMetrics, type Metrics } from '../metrics.ts';
import { createCodec, type Codec } from '../schemas/codec.ts';
import type { TopicDescriptor } from '../topics.ts';
import { createHttpServer } from '../http/server.ts';
import { createHealth, type Health } from './health.ts';
import { createClusterProbe } from './cluster-probe.ts';
import { createLagMonitor, type ConsumedTopic } from './lag-monitor.ts';
import { startTracing } from '../tracing/sdk.ts';

export interface Component {
  name: string;
  /** Role that runs this component (SERVICE_ROLES filters on it). */
  role: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Topics it consumes, for consumer-lag and log-end metrics. */
  consumes?: ConsumedTopic[];
}

export interface ServiceContext<T = unknown> {
  service: string;
  config: PlatformConfig;
  /** The service's topic descriptors for this TOPIC_PREFIX (ServiceDefinition.topics). */
  topics: T;
  kafka: Kafka;
  codec: Codec;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  roles: Set<string> | 'all';
  /** Whether this instance runs the components of a role (SERVICE_ROLES). */
  runs(role: string): boolean;
}

export interface ServiceDefinition<S = unknown, T = unknown> {
  name: string;
  /** The service's own settings, read beside the platform's so every problem is reported at once. */
  settings(reader: EnvReader): S;
  /** The topics the service knows, as descriptors for a TOPIC_PREFIX. */
  topics(prefix: string): T;
  /** Topics this service writes; their schema ids are resolved at start. */
  writes(topics: T, settings: S): TopicDescriptor[];
  components(context: ServiceContext<T>, settings: S): Promise<Component[]> | Component[];
}

export interface RunningService<T = unknown> {
  context: ServiceContext<T>;
  stop(): Promise<void>;
}

export function rolesFrom(env: NodeJS.ProcessEnv): Set<string> | 'all' {
  const raw = env.SERVICE_ROLES?.trim();
  return raw
    ? new Set(
        raw
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      )
    : 'all';
}

export async function startService<S, T>(definition: ServiceDefinition<S, T>, env: NodeJS.ProcessEnv = process.env): Promise<RunningService<T>> {
  const reader = createEnvReader(env);
  const config = readPlatformConfig(reader);
  const settings = definition.settings(reader);
  reader.check();
  const logger = createLogger(definition.name, config.logLevel);
  // First, so every span below has a provider; last to stop, so the spans of stopping are flushed.
  const tracing = startTracing(definition.name);
  if (tracing.enabled) logger.info({ exporter: process.env.OTEL_TRACES_EXPORTER ?? 'otlp' }, 'tracing on');
  const topics = definition.topics(config.topicPrefix);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: definition.name, security: config.kafka.security, logger, logLevel: env.KAFKAJS_LOG_LEVEL });
  const codec = await createCodec({ registryUrl: config.schemaRegistryUrl, writes: definition.writes(topics, settings) });
  const roles = rolesFrom(env);
  const metrics = createMetrics(definition.name);
  const health = createHealth(logger, metrics);
  const runs = (role: string) => roles === 'all' || roles.has(role);
  const context: ServiceContext<T> = { service: definition.name, config, topics, kafka, codec, logger, metrics, health, roles, runs };
  const components = (await definition.components(context, settings)).filter((c) => runs(c.role));
  if (config.metricsPort && !components.some((c) => c.role === 'api')) {
    // No HTTP API here (a processor-only instance): still health and metrics.
    const ops = createHttpServer({
      service: definition.name,
      port: config.metricsPort,
      host: config.httpHost,
      logger: logger.child({ component: 'ops-http' }),
      metrics,
      routes: [],
      ...(config.http.tls ? { tls: config.http.tls } : {}),
      liveness: () => health.liveness(),
      readiness: () => ({ ready: health.notReadyReasons().length === 0, reasons: health.notReadyReasons() }),
    });
    components.push({ name: 'ops-http', role: 'any', start: () => ops.start(), stop: () => ops.stop() });
  }
  const probe = createClusterProbe({
    kafka: createKafka({
      brokers: config.kafka.brokers,
      clientId: `${definition.name}-probe`,
      security: config.kafka.security,
      logger: logger.child({ component: 'cluster-probe' }, { level: 'silent' }),
      retries: 1,
      connectionTimeoutMs: 1_000,
      requestTimeoutMs: 2_000,
    }),
    health,
    logger: logger.child({ component: 'cluster-probe' }),
  });
  components.push({ name: 'cluster-probe', role: 'any', start: () => probe.start(), stop: () => probe.stop() });
  const monitor = createLagMonitor({ kafka, metrics, logger: logger.child({ component: 'lag-monitor' }), consumes: () => components.flatMap((c) => c.consumes ?? []) });
  components.push({ name: 'lag-monitor', role: 'any', start: () => monitor.start(), stop: () => monitor.stop() });
  const started: Component[] = [];
  for (const component of components) {
    await component.start();
    started.push(component);
    logger.info({ component: component.name }, 'started');
  }
  return {
    context,
    async stop() {
      for (const component of started.reverse()) {
        try {
          await component.stop();
          logger.info({ component: component.name }, 'stopped');
        } catch (error) {
          logger.error({ component: component.name, error: (error as Error).message }, 'stop failed');
        }
      }
      await tracing.shutdown().catch((error: unknown) => logger.warn({ error: (error as Error).message }, 'flushing spans failed'));
    },
  };
}

/** Entry point for a service's main.ts: start, then stop cleanly on a signal. */
export function runService<S, T>(definition: ServiceDefinition<S, T>, stopWithinMs = 25_000): void {
  let running: RunningService | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      process.exit(1); // a second signal: stop waiting
    }
    stopping = true;
    const bound = setTimeout(() => {
      console.error(`${definition.name}: did not stop within ${stopWithinMs / 1000}s after ${signal}; exiting`);
      process.exit(1);
    }, stopWithinMs);
    bound.unref();
    (running?.stop() ?? Promise.resolve()).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  startService(definition).then(
    (service) => {
      running = service;
      if (stopping) void service.stop().then(() => process.exit(0));
    },
    (error: unknown) => {
      console.error(`${definition.name}: could not start: ${(error as Error)?.message ?? error}`);
      process.exit(1);
    },
  );
}
