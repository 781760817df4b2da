// Prometheus metrics with prom-client, one registry per service instance (so
// several services can share a test process without mixing their figures).
import client from 'prom-client';

export interface Metrics {
  registry: client.Registry;
  httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  commandsDecided: client.Counter<'aggregate' | 'command' | 'outcome'>;
  commandLatency: client.Histogram<'aggregate'>;
  transactions: client.Histogram<'group'>;
  reservationOutcomes: client.Counter<'outcome'>;
  projectionApplied: client.Counter<'projection'>;
  projectionBatchSeconds: client.Histogram<'projection'>;
  deadLetters: client.Counter<'topic' | 'consumer'>;
}

export function createMetrics(service: string): Metrics {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry });
  const fast = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    registry,
    httpDuration: new client.Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request duration by route and status', labelNames: ['method', 'route', 'status'], buckets: fast, registers: [registry] }),
    commandsDecided: new client.Counter({ name: 'commands_decided_total', help: 'Commands decided, by outcome (accepted, rejected, dead-lettered)', labelNames: ['aggregate', 'command', 'outcome'], registers: [registry] }),
    commandLatency: new client.Histogram({ name: 'command_outcome_latency_seconds', help: 'From a command being issued to its outcome being decided', labelNames: ['aggregate'], buckets: fast, registers: [registry] }),
    transactions: new client.Histogram({ name: 'processor_transaction_seconds', help: 'Duration of one consume-decide-produce transaction', labelNames: ['group'], buckets: fast, registers: [registry] }),
    reservationOutcomes: new client.Counter({ name: 'reservation_outcomes_total', help: 'Reservation decisions by outcome', labelNames: ['outcome'], registers: [registry] }),
    projectionApplied: new client.Counter({ name: 'projection_events_applied_total', help: 'Events applied per projection', labelNames: ['projection'], registers: [registry] }),
    projectionBatchSeconds: new client.Histogram({ name: 'projection_batch_seconds', help: 'Time to apply one fetched batch to one projection', labelNames: ['projection'], buckets: fast, registers: [registry] }),
    deadLetters: new client.Counter({ name: 'dead_letters_total', help: 'Messages sent to a dead-letter topic', labelNames: ['topic', 'consumer'], registers: [registry] }),
  };
}
