// Every metric name the three services export (a histogram's as its _bucket,
// _count and _sum series), for checking what dashboards and alert rules query.
import { countReservationOutcomes, gaugeBlockedRetirements } from '../../services/inventory/metrics.ts';
import { countFlaggedOrders } from '../../services/order/metrics.ts';
import { createMetrics } from '../../services/platform/metrics.ts';

export async function exportedMetricNames(): Promise<Set<string>> {
  const metrics = createMetrics('test');
  countReservationOutcomes(metrics);
  gaugeBlockedRetirements(metrics, () => 0);
  countFlaggedOrders(metrics);
  const all = await metrics.registry.getMetricsAsJSON();
  return new Set(all.flatMap((m) => (String(m.type) === 'histogram' ? [`${m.name}_bucket`, `${m.name}_count`, `${m.name}_sum`] : [m.name])));
}

/** Metric names in PromQL expressions (function names left out). */
export function metricNamesIn(expressions: string[]): Set<string> {
  const FUNCTIONS = new Set(['histogram_quantile', 'group_right', 'group_left', 'label_replace', 'absent_over_time']);
  return new Set(expressions.flatMap((e) => e.match(/\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g) ?? []).filter((n) => !FUNCTIONS.has(n)));
}
