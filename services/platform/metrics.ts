// Prometheus metrics with prom-client, one registry per service instance (so
// several services can share a test process without mixing their figures).
// `handler` names what handles messages: processor:<aggregate>,
// translator:<name>, projection:<name>, responder:<name>.
import client from 'prom-client';
import { deadLetterTopicName } from './topics.ts';

export interface Metrics {
  registry: client.Registry;
  httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  /** Messages a handler dealt with (outcome: ok, rejected, dead-lettered). */
  handled: client.Counter<'handler' | 'outcome'>;
  /** Handling attempts that failed (and will be retried, or dead-lettered). */
  failed: client.Counter<'handler' | 'reason'>;
  /** Time to handle one fetched batch (one transaction for a processor). */
  batchSeconds: client.Histogram<'handler'>;
  /** How old a message was when it was handled: end-to-end delay through the log. */
  messageAge: client.Histogram<'handler'>;
  commandsDecided: client.Counter<'aggregate' | 'command' | 'outcome'>;
  /** From a command being issued to its outcome being decided. */
  commandLatency: client.Histogram<'aggregate'>;
  /** An HTTP write's wait for its command's outcome (answered, or pending past the timeout). */
  commandRequests: client.Histogram<'outcome'>;
  deadLetters: client.Counter<'topic' | 'handler'>;
  consumerLag: client.Gauge<'group' | 'topic' | 'partition'>;
  projectionPosition: client.Gauge<'projection' | 'topic' | 'partition'>;
  logEnd: client.Gauge<'topic' | 'partition'>;
  brokerReachable: client.Gauge;
  consumerCrashes: client.Counter<'group' | 'restarted'>;
  /** Requests refused at once with 503 because too much work was in progress, by reason. */
  shed: client.Counter<'reason'>;
  /** A circuit breaker around a dependency: 0 closed, 1 open, 2 half-open, 3 isolated. */
  circuitState: client.Gauge<'dependency'>;
  /** Calls to another service through a resilience policy, by result (ok, timeout, failed, circuit-open). */
  dependencyCalls: client.Histogram<'dependency' | 'outcome'>;
  /** Runs `hook` before every scrape (gauges read from live state). */
  beforeScrape(hook: () => void | Promise<void>): void;
  /** The exposition text, after the scrape hooks ran. */
  render(): Promise<string>;
}

/** What one handler of messages reports; a no-op without metrics. */
export interface HandlerObserver {
  /** A batch was handled and committed (or applied); `deadLettered` of its messages went to dead letters. */
  handled(messages: readonly { timestamp: string }[], seconds: number, deadLettered?: number): void;
  deadLettered(topic: string, count?: number): void;
  failed(reason: string): void;
}

export function observeHandler(metrics: Metrics | undefined, handler: string): HandlerObserver {
  if (!metrics) return { handled() {}, deadLettered() {}, failed() {} };
  const ok = metrics.handled.labels(handler, 'ok');
  const dead = metrics.handled.labels(handler, 'dead-lettered');
  const batch = metrics.batchSeconds.labels(handler);
  const age = metrics.messageAge.labels(handler);
  return {
    handled(messages, seconds, deadLettered = 0) {
      ok.inc(messages.length - deadLettered);
      batch.observe(seconds);
      const now = Date.now();
      for (const m of messages) age.observe(Math.max(0, now - Number(m.timestamp)) / 1000);
    },
    deadLettered(topic, count = 1) {
      if (count <= 0) return;
      metrics.deadLetters.inc({ topic: deadLetterTopicName(topic), handler }, count);
      dead.inc(count);
    },
    failed(reason) {
      metrics.failed.inc({ handler, reason });
    },
  };
}

/** A short, bounded label for why handling failed (an error's kafkajs type or class). */
export function failureReason(error: unknown): string {
  const e = error as { type?: unknown; name?: unknown } | null;
  if (typeof e?.type === 'string' && /^[A-Z_]+$/.test(e.type)) return e.type;
  return typeof e?.name === 'string' && e.name !== 'Error' ? e.name : 'error';
}

export function createMetrics(service: string): Metrics {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const fast = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  const slow = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
  const hooks: (() => void | Promise<void>)[] = [];
  return {
    registry,
    beforeScrape(hook) {
      hooks.push(hook);
    },
    async render() {
      for (const hook of hooks) await hook();
      return registry.metrics();
    },
    httpDuration: new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: fast,
      registers,
    }),
    handled: new client.Counter({ name: 'messages_handled_total', help: 'Messages handled, by handler and outcome (ok, rejected, dead-lettered)', labelNames: ['handler', 'outcome'], registers }),
    failed: new client.Counter({ name: 'messages_failed_total', help: 'Failed handling attempts, by handler and reason', labelNames: ['handler', 'reason'], registers }),
    batchSeconds: new client.Histogram({
      name: 'message_batch_handling_seconds',
      help: 'Time to handle one fetched batch (for a processor, one transaction)',
      labelNames: ['handler'],
      buckets: fast,
      registers,
    }),
    messageAge: new client.Histogram({ name: 'message_age_at_handling_seconds', help: 'Age of a message when it was handled', labelNames: ['handler'], buckets: slow, registers }),
    commandsDecided: new client.Counter({
      name: 'commands_decided_total',
      help: 'Commands decided, by outcome (accepted, rejected, dead-lettered)',
      labelNames: ['aggregate', 'command', 'outcome'],
      registers,
    }),
    commandLatency: new client.Histogram({
      name: 'command_outcome_latency_seconds',
      help: 'From a command being issued to its outcome being decided',
      labelNames: ['aggregate'],
      buckets: fast,
      registers,
    }),
    commandRequests: new client.Histogram({
      name: 'command_request_seconds',
      help: 'An HTTP write waiting for its command outcome (answered or pending)',
      labelNames: ['outcome'],
      buckets: fast,
      registers,
    }),
    deadLetters: new client.Counter({ name: 'dead_letters_total', help: 'Messages sent to a dead-letter topic', labelNames: ['topic', 'handler'], registers }),
    consumerLag: new client.Gauge({
      name: 'kafka_consumer_group_lag',
      help: "Messages between a consumer group's committed offset and the end of the partition",
      labelNames: ['group', 'topic', 'partition'],
      registers,
    }),
    projectionPosition: new client.Gauge({
      name: 'projection_position',
      help: 'Next offset a projection will apply, per topic partition',
      labelNames: ['projection', 'topic', 'partition'],
      registers,
    }),
    logEnd: new client.Gauge({ name: 'kafka_log_end_offset', help: 'End (high watermark) of a partition the service reads', labelNames: ['topic', 'partition'], registers }),
    brokerReachable: new client.Gauge({ name: 'kafka_broker_reachable', help: '1 when the last check reached the cluster, else 0', registers }),
    shed: new client.Counter({ name: 'http_requests_shed_total', help: 'Requests refused at once with 503 because too much work was in progress, by reason', labelNames: ['reason'], registers }),
    circuitState: new client.Gauge({ name: 'circuit_breaker_state', help: 'Circuit breaker around a dependency: 0 closed, 1 open, 2 half-open, 3 isolated', labelNames: ['dependency'], registers }),
    dependencyCalls: new client.Histogram({
      name: 'dependency_call_seconds',
      help: 'Calls to another service (HTTP or request-reply over the log), by result: ok, timeout, failed, circuit-open',
      labelNames: ['dependency', 'outcome'],
      buckets: fast,
      registers,
    }),
    consumerCrashes: new client.Counter({ name: 'kafka_consumer_crashes_total', help: 'Consumers that crashed, and whether kafkajs restarted them', labelNames: ['group', 'restarted'], registers }),
  };
}
