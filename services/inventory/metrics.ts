// Inventory's own metrics, beside the platform's: where reservations went, and
// how many deleted variants still hold stock (seed 001: an operator must act).
import client from 'prom-client';
import type { Decided } from '../platform/processing/command-processor.ts';
import type { Metrics } from '../platform/metrics.ts';

const OUTCOME: Partial<Record<string, string>> = {
  StockReserved: 'reserved',
  ReservationRejected: 'rejected',
  StockReleased: 'released',
  ReservationExpired: 'expired',
};

/** Counts each committed decision's reservation outcomes: reserved, rejected, released, expired or sold. */
export function countReservationOutcomes(metrics: Metrics): (decided: Decided) => void {
  const outcomes = new client.Counter({ name: 'reservation_outcomes_total', help: 'Reservation decisions by outcome', labelNames: ['outcome'], registers: [metrics.registry] });
  return ({ events }) => {
    for (const event of events) {
      const outcome = event.type === 'StockLevelChanged' && (event.data as { changeType?: string }).changeType === 'SALE' ? 'sold' : OUTCOME[event.type];
      if (outcome) outcomes.inc({ outcome });
    }
  };
}

/** inventory_retirements_blocked, counted at each scrape (from the stock read model). */
export function gaugeBlockedRetirements(metrics: Metrics, count: () => number): void {
  const gauge = new client.Gauge({
    name: 'inventory_retirements_blocked',
    help: 'Variants deleted from the catalogue while stock was on hand, waiting for an operator',
    registers: [metrics.registry],
  });
  metrics.beforeScrape(() => gauge.set(count()));
}
