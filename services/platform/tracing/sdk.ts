// Distributed tracing with OpenTelemetry, configured by the standard OTEL_*
// variables and off unless they ask for it. The SDK (sdk-node) reads the rest
// itself: OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL / _HEADERS, OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*. Only traces:
// metrics stay with prom-client (/metrics) and logs with pino.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { setTracingEnabled } from './spans.ts';

export interface Tracing {
  enabled: boolean;
  /** Flushes the spans still buffered. */
  shutdown(): Promise<void>;
}

/** On when a traces exporter is named (other than `none`) or an OTLP endpoint is set, and OTEL_SDK_DISABLED is not true. */
export function tracingConfigured(env: NodeJS.ProcessEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (exporters.length > 0) return exporters.some((e) => e !== 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Starts the SDK when configured (sdk-node reads process.env); otherwise nothing runs and no span is made. */
export function startTracing(service: string): Tracing {
  if (!tracingConfigured(process.env)) return { enabled: false, shutdown: async () => {} };
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? service,
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  setTracingEnabled(true);
  return {
    enabled: true,
    async shutdown() {
      setTracingEnabled(false);
      await sdk.shutdown();
    },
  };
}
