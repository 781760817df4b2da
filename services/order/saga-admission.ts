// Admission control for placements: while too many orders' sagas are open
// (placed, inventory not yet answered for every line), or too many have been
// open for longer than they should take, a new placement is refused at once
// with 503 and Retry-After rather than queued behind them, so the orders
// accepted still conclude in time and memory stays bounded. The counts come
// from the orders read model, read at most every `refreshMs`.
import { overloaded } from '../platform/http/command-request.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { SagaCount } from './http/queries.ts';

export interface SagaAdmission {
  /** Throws a 503 HttpError when no more sagas may open now. */
  admit(): void;
  /** A placement was accepted: one more open until the next count says otherwise. */
  opened(): void;
}

export interface SagaLimits {
  /** Open sagas at most (ORDER_MAX_OPEN_SAGAS): bounds the work and memory in hand. */
  maxOpen: number;
  /**
   * Sagas open for longer than `lateAfterMs` at most (ORDER_MAX_LATE_SAGAS,
   * ORDER_SAGA_LATE_MS): a backlog has formed, and an order placed now would
   * wait behind it. Whatever the machine's capacity, this trips within a
   * second or two of overload; a few stuck sagas do not trip it.
   */
  maxLate: number;
  lateAfterMs: number;
}

export function createSagaAdmission(count: (lateBefore: number) => SagaCount, limits: SagaLimits, options: { refreshMs?: number; metrics?: Metrics; now?: () => number } = {}): SagaAdmission {
  const refreshMs = options.refreshMs ?? 100;
  const now = options.now ?? Date.now;
  let counted = { at: -Infinity, open: 0, late: 0 };
  const refuse = (reason: string, message: string) => {
    options.metrics?.shed.inc({ reason });
    throw overloaded(message);
  };
  return {
    admit() {
      const t = now();
      if (t - counted.at >= refreshMs) counted = { at: t, ...count(t - limits.lateAfterMs) };
      if (counted.open >= limits.maxOpen) refuse('open-sagas', `${counted.open} orders are still being reserved`);
      if (counted.late >= limits.maxLate) refuse('late-sagas', `${counted.late} orders have waited more than ${limits.lateAfterMs} ms for their reservations`);
    },
    opened() {
      counted = { ...counted, open: counted.open + 1 };
    },
  };
}
