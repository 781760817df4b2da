// Admission control for placements: while too many orders' sagas are open
// (placed, inventory not yet answered for every line), a new placement is
// refused at once with 503 and Retry-After rather than queued behind them, so
// the orders accepted still conclude in time and memory stays bounded. The
// count comes from the orders read model, read at most every `refreshMs`.
import { overloaded } from '../platform/http/command-request.ts';
import type { Metrics } from '../platform/metrics.ts';

export interface SagaAdmission {
  /** Throws a 503 HttpError when no more sagas may open now. */
  admit(): void;
  /** A placement was accepted: one more open until the next count says otherwise. */
  opened(): void;
}

export function createSagaAdmission(openSagas: () => number, max: number, options: { refreshMs?: number; metrics?: Metrics; now?: () => number } = {}): SagaAdmission {
  const refreshMs = options.refreshMs ?? 100;
  const now = options.now ?? Date.now;
  let counted = { at: -Infinity, open: 0 };
  return {
    admit() {
      if (now() - counted.at >= refreshMs) counted = { at: now(), open: openSagas() };
      if (counted.open >= max) {
        options.metrics?.shed.inc({ reason: 'open-sagas' });
        throw overloaded(`${counted.open} orders are still being reserved`);
      }
    },
    opened() {
      counted = { ...counted, open: counted.open + 1 };
    },
  };
}
