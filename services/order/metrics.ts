// The order service's own metrics, beside the platform's.
import client from 'prom-client';
import type { Decided } from '../platform/processing/command-processor.ts';
import type { Metrics } from '../platform/metrics.ts';

/** orders_flagged_for_review_total: each committed OrderFlaggedForReview (a person should look at the order). */
export function countFlaggedOrders(metrics: Metrics): (decided: Decided) => void {
  const flagged = new client.Counter({
    name: 'orders_flagged_for_review_total',
    help: 'Orders flagged for a person to review (price discrepancies, a variant discontinued while open)',
    registers: [metrics.registry],
  });
  return ({ events }) => {
    for (const event of events) if (event.type === 'OrderFlaggedForReview') flagged.inc();
  };
}
