// What tracing costs a checkout: the checkout benchmark's steady load, offered
// twice to fresh starts of the three services on the same log, first with
// tracing off (the default) and then on (every span exported over OTLP,
// sdk-node's default http/protobuf, to a sink in this process that only counts).
// Figures are ratios on/off from the same run.
import { startOtlpReceiver } from '../test/support/otlp-receiver.ts';
import { measureProcesses, SERVICE_NAMES, startSystem, type RunningSystem } from './processes.ts';
import { steadyCheckout, waitForCatalogue, type Http, type SteadyCheckout } from './steady-checkout.ts';
import type { PlatformConfig } from '../services/platform/config.ts';

export interface TracingMode {
  checkout: SteadyCheckout;
  /** CPU of the three services over the load, in cores. */
  serviceCores: number;
  exports: { requests: number; bytes: number };
}

export interface TracingCost {
  off: TracingMode;
  on: TracingMode;
  ratios: { postToConfirmedP50: number; postToConfirmedP99: number; serviceCpu: number; confirmedPerSecond: number };
}

export async function tracingCost(options: {
  prefix: string;
  load: { http: Http; variants: string[]; config: PlatformConfig; prefix: string; perSecond: number; seconds: number };
  authorize(system: RunningSystem): Promise<void>;
}): Promise<TracingCost> {
  const sink = await startOtlpReceiver({ countOnly: true });
  const modes: Partial<Record<'off' | 'on', TracingMode>> = {};
  try {
    for (const mode of ['off', 'on'] as const) {
      const env: Record<string, string> = mode === 'on' ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_TRACES_SAMPLER: 'always_on' } : {};
      console.log(`[checkout] tracing ${mode}: ${options.load.perSecond} orders/s for ${options.load.seconds}s on a fresh start`);
      const system = await startSystem(options.prefix, env);
      try {
        await options.authorize(system);
        await waitForCatalogue(options.load.http, system.base.order, options.load.variants);
        const before = { ...sink.exports };
        const usage = measureProcesses(system.pids);
        const checkout = await steadyCheckout({ ...options.load, orderBase: system.base.order });
        const cpu = usage();
        modes[mode] = {
          checkout,
          serviceCores: Number(SERVICE_NAMES.reduce((sum, name) => sum + (cpu[name]?.cores ?? 0), 0).toFixed(2)),
          exports: { requests: sink.exports.requests - before.requests, bytes: sink.exports.bytes - before.bytes },
        };
      } finally {
        await system.stop();
      }
    }
  } finally {
    await sink.close();
  }
  const { off, on } = modes as Record<'off' | 'on', TracingMode>;
  const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
  return {
    off,
    on,
    ratios: {
      postToConfirmedP50: ratio(on.checkout.postToConfirmed.p50Ms, off.checkout.postToConfirmed.p50Ms),
      postToConfirmedP99: ratio(on.checkout.postToConfirmed.p99Ms, off.checkout.postToConfirmed.p99Ms),
      serviceCpu: ratio(on.serviceCores, off.serviceCores),
      confirmedPerSecond: ratio(on.checkout.confirmedPerSecond, off.checkout.confirmedPerSecond),
    },
  };
}

export function tracingSummary(t: TracingCost): string {
  const row = (mode: string, m: TracingMode) =>
    `| ${mode} | ${m.checkout.confirmed} of ${m.checkout.orders} | ${m.checkout.confirmedPerSecond} | ${m.checkout.postToConfirmed.p50Ms} ms / ${m.checkout.postToConfirmed.p99Ms} ms | ${m.serviceCores} | ${m.exports.requests} (${Math.round(m.exports.bytes / 1024)} KiB) |`;
  return `Tracing cost: the same load on fresh starts of the three services, tracing off then on (every span exported, OTLP http/protobuf, to a counting sink):

| tracing | orders confirmed | confirmed/s | POST to CONFIRMED p50 / p99 | service CPU, cores | OTLP exports |
| --- | --- | --- | --- | --- | --- |
${row('off', t.off)}
${row('on', t.on)}
| on / off | | ${t.ratios.confirmedPerSecond} | ${t.ratios.postToConfirmedP50} / ${t.ratios.postToConfirmedP99} | ${t.ratios.serviceCpu} | |
`;
}
